from collections.abc import Collection
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from broadcast_shared.errors import UNSUPPORTED_LANGUAGE_ERROR
from broadcast_shared.languages import SOURCE_LOCALES, TARGET_LANGUAGES


class WireModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are an error.

    A model's validator and serializer are built when it is first used, not at import (``defer_build``): a
    function's cold start builds only the few messages its handler sends or reads, not all of them.

    The message modules do not use ``from __future__ import annotations``: with it every field's annotation is a
    string that pydantic compiles and evaluates when the class is created (about 120 of them, 3 ms of each cold
    start for the messages and settings together, measured with ``python -X importtime``)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        defer_build=True,
    )

    def to_wire(self) -> dict:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def supported_language(value: str, languages: Collection[str]) -> str:
    """``value`` when it is one of ``languages``; else the ``unsupported_language`` error, naming those supported."""
    if value not in languages:
        raise PydanticCustomError(
            UNSUPPORTED_LANGUAGE_ERROR,
            "unsupported language '{language}'; supported: {supported}",
            {"language": value, "supported": ", ".join(sorted(languages))},
        )
    return value


#: a speaker's language: one Amazon Transcribe streaming recognises
SourceLanguage = Annotated[str, AfterValidator(lambda value: supported_language(value, SOURCE_LOCALES))]
#: a listener's language: one Amazon Translate produces and Amazon Polly speaks
TargetLanguage = Annotated[str, AfterValidator(lambda value: supported_language(value, TARGET_LANGUAGES))]
