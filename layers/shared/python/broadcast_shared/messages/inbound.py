"""Client → server messages. Each has an ``action``, the route key API Gateway selects on.

Validated strictly from the JSON text (:class:`ClientMessage`): no ``"42"`` or ``true`` for an
integer, no string for a number, and ASCII digits only in patterns (``\\d`` would take any
Unicode digit).
"""

import unicodedata
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, SecretStr, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from broadcast_shared.languages import SOURCE_LOCALES, TARGET_LANGUAGES
from broadcast_shared.messages.wire import SourceLanguage, TargetLanguage, WireModel, supported_language

SessionId = Annotated[str, Field(pattern=r"^[a-z]+(-[a-z]+){1,3}-[0-9]{3,4}$", max_length=64)]


class ClientMessage(WireModel):
    """A message from a client: strict types, parsed from JSON text with ``model_validate_json``."""

    model_config = ConfigDict(strict=True)


class QualityTier(StrEnum):
    """The one tier there is. ``premium`` was accepted and changed nothing: a client paying for it would have
    been misled, so it is refused until a tier really differs (recognition model, voices)."""

    STANDARD = "standard"


TerminologyName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,256}$")]

#: the longest talk title and presenter name, in characters (after trimming): one line on a page or a file header
TITLE_MAX_CHARACTERS = 120
PRESENTER_MAX_CHARACTERS = 80
#: a private talk's passcode, in characters
PASSCODE_MIN_CHARACTERS = 4
PASSCODE_MAX_CHARACTERS = 64
#: characters a one-line text may not hold: line and paragraph breaks, and the bidirectional embeddings, overrides
#: and isolates that would make a title read differently from what it holds
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _one_line(value: str, most: int, least: int = 1) -> str:
    """``value`` in NFC, trimmed, between ``least`` and ``most`` characters, with no control characters."""
    text = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(c) in _REFUSED_CATEGORIES or c in _BIDI_CONTROLS for c in text):
        raise PydanticCustomError("control_character", "must be one line of text without control characters")
    if not least <= len(text) <= most:
        raise PydanticCustomError(
            "text_length", "must hold {least} to {most} characters", {"least": least, "most": most}
        )
    return text


def _title(value: str | None) -> str | None:
    return None if value is None else _one_line(value, TITLE_MAX_CHARACTERS)


def _presenter(value: str | None) -> str | None:
    return None if value is None else _one_line(value, PRESENTER_MAX_CHARACTERS)


def _passcode(value: SecretStr | None) -> SecretStr | None:
    """A passcode as typed (not trimmed: spaces count), in NFC so that every keyboard's ``é`` is the same."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", value.get_secret_value())
    if text != text.strip():
        raise PydanticCustomError("passcode_spaces", "must not begin or end with a space")
    return SecretStr(_one_line(text, PASSCODE_MAX_CHARACTERS, PASSCODE_MIN_CHARACTERS))


class CreateSession(ClientMessage):
    action: Literal["createSession"]
    source_language: SourceLanguage
    quality_tier: QualityTier = QualityTier.STANDARD
    #: an Amazon Translate custom terminology (imported beforehand, and on the deployment's allow-list,
    #: ``Settings.allowed_terminologies``) applied to this session's translations
    terminology: TerminologyName | None = None
    #: resume this session (yours, still active) on this connection instead of creating one
    session_id: SessionId | None = None
    #: shown to listeners, on the stage display and in transcripts
    title: str | None = None
    presenter: str | None = None
    #: a private talk: listeners join (and read its transcript) only with it; kept as a salted hash, never logged
    #: (``SecretStr`` shows as ``**********`` in any repr)
    passcode: SecretStr | None = None

    _check_title = field_validator("title")(_title)
    _check_presenter = field_validator("presenter")(_presenter)
    _check_passcode = field_validator("passcode")(_passcode)


class JoinSession(ClientMessage):
    action: Literal["joinSession"]
    session_id: SessionId
    target_language: TargetLanguage
    #: a private talk's passcode
    passcode: SecretStr | None = None
    #: false: a listener who does not show captions gets finals only (with their speech), never partials
    captions: bool = True

    _check_passcode = field_validator("passcode")(_passcode)


class ChangeLanguage(ClientMessage):
    action: Literal["changeLanguage"]
    target_language: TargetLanguage


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
        return None if value is None else supported_language(value, TARGET_LANGUAGES | set(SOURCE_LOCALES))


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
