"""The translation pipeline's settings, read from the environment once per execution environment."""

from typing import Annotated, Literal

from pydantic import Field

from broadcast_shared.config import FROM_JSON, EnvironmentSettings, NonEmpty


class TranslationSettings(EnvironmentSettings):
    """What the translation pipeline reads."""

    translation_cache_table: NonEmpty
    #: every final of a session per language, kept for ``transcript_retention_seconds`` (DynamoDB TTL)
    transcripts_table: NonEmpty
    transcript_retention_seconds: int = Field(default=7 * 86400, ge=1)
    #: ``translate`` (Amazon Translate) or ``apertium`` (local)
    translation_engine: Literal["translate", "apertium"] = "translate"
    #: ``polly`` (Amazon Polly) or ``espeak`` (local)
    speech_engine: Literal["polly", "espeak"] = "polly"
    #: cached translations expire through DynamoDB TTL after this long
    cache_ttl_seconds: int = Field(default=7 * 86400, validation_alias="translation_cache_ttl_seconds")
    #: Polly voice per language, overriding the defaults (``POLLY_VOICES`` as JSON)
    voices: Annotated[dict[str, str], FROM_JSON] = Field(default_factory=dict, validation_alias="polly_voices")
    #: Polly engine preference: neural where the voice has it, else standard
    prefer_neural: bool = Field(default=True, validation_alias="polly_prefer_neural")
    #: how long a final's speech may take, Polly's retries and the standard-voice fallback included; past it the
    #: caption goes without speech (``speech: skipped``)
    speech_budget_seconds: float = Field(default=1.5, gt=0, le=10)
    #: how long a caption's translation may take, retries included; past it the caption goes out in the source
    #: text (``translated: false``)
    translation_budget_seconds: float = Field(default=1.5, gt=0, le=10)
    #: listeners one invocation posts to; a larger audience is split across concurrent invokes of
    #: ``fanout_function_name`` (this function, ``AWS_LAMBDA_FUNCTION_NAME``); empty: never split
    fanout_slice_size: int = Field(default=250, ge=1)
    fanout_function_name: str = Field(default="", validation_alias="aws_lambda_function_name")
