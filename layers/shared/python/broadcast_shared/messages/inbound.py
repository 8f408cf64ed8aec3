"""Client → server messages. Each has an ``action``, the route key API Gateway selects on.

Validated strictly from the JSON text (:class:`ClientMessage`): no ``"42"`` or ``true`` for an
integer, no string for a number, and ASCII digits only in patterns (``\\d`` would take any
Unicode digit).
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from broadcast_shared.errors import UNSUPPORTED_LANGUAGE_ERROR
from broadcast_shared.languages import SOURCE_LOCALES, TARGET_LANGUAGES
from broadcast_shared.messages.wire import WireModel

SessionId = Annotated[str, Field(pattern=r"^[a-z]+(-[a-z]+){1,3}-[0-9]{3,4}$", max_length=64)]


class ClientMessage(WireModel):
    """A message from a client: strict types, parsed from JSON text with ``model_validate_json``."""

    model_config = ConfigDict(strict=True)


class QualityTier(StrEnum):
    """The one tier there is. ``premium`` was accepted and changed nothing: a client paying for it would have
    been misled, so it is refused until a tier really differs (recognition model, voices)."""

    STANDARD = "standard"


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


class CreateSession(ClientMessage):
    action: Literal["createSession"]
    source_language: str
    quality_tier: QualityTier = QualityTier.STANDARD
    #: an Amazon Translate custom terminology (imported beforehand, and on the deployment's allow-list,
    #: ``Settings.allowed_terminologies``) applied to this session's translations
    terminology: TerminologyName | None = None
    #: resume this session (yours, still active) on this connection instead of creating one
    session_id: SessionId | None = None

    @field_validator("source_language")
    @classmethod
    def _supported_source(cls, value: str) -> str:
        return _supported(value, set(SOURCE_LOCALES))


class JoinSession(ClientMessage):
    action: Literal["joinSession"]
    session_id: SessionId
    target_language: str

    _check_language = field_validator("target_language")(_target_language)


class ChangeLanguage(ClientMessage):
    action: Literal["changeLanguage"]
    target_language: str

    _check_language = field_validator("target_language")(_target_language)


class Heartbeat(ClientMessage):
    action: Literal["heartbeat"]


class PauseBroadcast(ClientMessage):
    action: Literal["pauseBroadcast"]


class ResumeBroadcast(ClientMessage):
    action: Literal["resumeBroadcast"]


class MuteBroadcast(ClientMessage):
    action: Literal["muteBroadcast"]


class UnmuteBroadcast(ClientMessage):
    action: Literal["unmuteBroadcast"]


class SetVolume(ClientMessage):
    action: Literal["setVolume"]
    volume: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class EndSession(ClientMessage):
    action: Literal["endSession"]


class GetSessionStatus(ClientMessage):
    action: Literal["getSessionStatus"]


class GetTranscript(ClientMessage):
    """The session's kept finals in one language, a page at a time."""

    action: Literal["getTranscript"]
    #: a listener: its own language (the default); a speaker: any language (default: the source language)
    language: str | None = None
    #: the ``nextToken`` of the previous page
    next_token: Annotated[str, Field(pattern=r"^[0-9]{12}#[A-Za-z0-9_.:-]{1,128}$")] | None = None

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        return None if value is None else _supported(value, TARGET_LANGUAGES | set(SOURCE_LOCALES))


#: the longest question a listener may ask, in characters (docs/ARCHITECTURE.md, "Limits")
MAX_QUESTION_CHARACTERS = 500

QuestionId = Annotated[str, Field(pattern=r"^[0-9]{13}-[0-9a-f]{8}$")]


class AskQuestion(ClientMessage):
    """A listener's question to the speaker, in the listener's language (translated for the speaker)."""

    action: Literal["askQuestion"]
    #: leading and trailing whitespace is dropped; what remains is 1 to 500 characters
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUESTION_CHARACTERS)]


class QuestionStatus(StrEnum):
    """What the speaker made of a question."""

    ANSWERED = "answered"
    DISMISSED = "dismissed"


class MarkQuestion(ClientMessage):
    """The speaker marks a question of its session answered or dismissed."""

    action: Literal["markQuestion"]
    question_id: QuestionId
    status: QuestionStatus


class SetQuestions(ClientMessage):
    """The speaker opens (the default) or closes its session to questions."""

    action: Literal["setQuestions"]
    open: bool


class SendAudio(ClientMessage):
    """One chunk of the speaker's audio: base64 PCM, 16-bit little-endian, mono, 16 kHz."""

    action: Literal["sendAudio"]
    audio: Annotated[str, Field(min_length=1)]
    #: increases by one per chunk within a session, from 0
    sequence: Annotated[int, Field(ge=0, lt=2**53)]
