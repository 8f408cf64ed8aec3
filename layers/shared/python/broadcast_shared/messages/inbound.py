"""Client → server messages. Each has an ``action``, the route key API Gateway selects on."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from broadcast_shared.languages import SOURCE_LOCALES, TARGET_LANGUAGES
from broadcast_shared.messages._base import WireModel

SessionId = Annotated[str, Field(pattern=r"^[a-z]+-[a-z]+-\d{3}$", max_length=64)]


class QualityTier(StrEnum):
    STANDARD = "standard"
    PREMIUM = "premium"


#: the pydantic error type the route wrapper reports as ``UNSUPPORTED_LANGUAGE``
UNSUPPORTED_LANGUAGE_ERROR = "unsupported_language"


def _supported(value: str, supported: frozenset[str] | set[str]) -> str:
    if value not in supported:
        raise PydanticCustomError(
            UNSUPPORTED_LANGUAGE_ERROR,
            "unsupported language '{language}'; supported: {supported}",
            {"language": value, "supported": ", ".join(sorted(supported))},
        )
    return value


def _target_language(value: str) -> str:
    return _supported(value, TARGET_LANGUAGES)


TerminologyName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,256}$")]


class CreateSession(WireModel):
    action: Literal["createSession"]
    source_language: str
    quality_tier: QualityTier = QualityTier.STANDARD
    #: an Amazon Translate custom terminology (imported beforehand) applied to this session's translations
    terminology: TerminologyName | None = None
    #: resume this session (yours, still active) on this connection instead of creating one
    session_id: SessionId | None = None

    @field_validator("source_language")
    @classmethod
    def _supported_source(cls, value: str) -> str:
        return _supported(value, set(SOURCE_LOCALES))


class JoinSession(WireModel):
    action: Literal["joinSession"]
    session_id: SessionId
    target_language: str

    _check_language = field_validator("target_language")(_target_language)


class ChangeLanguage(WireModel):
    action: Literal["changeLanguage"]
    target_language: str

    _check_language = field_validator("target_language")(_target_language)


class Heartbeat(WireModel):
    action: Literal["heartbeat"]


class PauseBroadcast(WireModel):
    action: Literal["pauseBroadcast"]


class ResumeBroadcast(WireModel):
    action: Literal["resumeBroadcast"]


class MuteBroadcast(WireModel):
    action: Literal["muteBroadcast"]


class UnmuteBroadcast(WireModel):
    action: Literal["unmuteBroadcast"]


class SetVolume(WireModel):
    action: Literal["setVolume"]
    volume: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class EndSession(WireModel):
    action: Literal["endSession"]


class GetSessionStatus(WireModel):
    action: Literal["getSessionStatus"]


class SendAudio(WireModel):
    """One chunk of the speaker's audio: base64 PCM, 16-bit little-endian, mono, 16 kHz."""

    action: Literal["sendAudio"]
    audio: Annotated[str, Field(min_length=1)]
    #: increases by one per chunk within a session, from 0
    sequence: Annotated[int, Field(ge=0, lt=2**53)]
