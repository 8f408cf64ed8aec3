"""The records the repositories store and return."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from broadcast_shared.pricing import SessionUsage


class Role(StrEnum):
    SPEAKER = "speaker"
    LISTENER = "listener"


class SessionState(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


@dataclass(frozen=True)
class Connection:
    connection_id: str
    role: Role
    connected_at: float
    last_seen_at: float
    user_id: str | None = None
    session_id: str | None = None
    target_language: str | None = None
    refresh_warned: bool = False
    #: a listener showing captions gets partials; one without (``joinSession`` ``captions: false``) finals only
    captions: bool = True

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Connection:
        return cls(
            connection_id=item["connectionId"],
            role=Role(item["role"]),
            connected_at=float(item["connectedAt"]),
            last_seen_at=float(item.get("lastSeenAt", item["connectedAt"])),
            user_id=item.get("userId"),
            session_id=item.get("sessionId"),
            target_language=item.get("targetLanguage"),
            refresh_warned=bool(item.get("refreshWarned", False)),
            captions=bool(item.get("captions", True)),
        )


@dataclass(frozen=True)
class Session:
    session_id: str
    speaker_connection_id: str
    source_language: str
    quality_tier: str
    state: SessionState
    created_at: float
    is_paused: bool = False
    is_muted: bool = False
    volume: float = 1.0
    ended_at: float | None = None
    listener_count: int = 0
    language_counts: dict[str, int] = field(default_factory=dict)
    #: listeners showing captions per language (``joinSession`` ``captions``): partials go only to a language with
    #: one; None for a session created before the count existed (every listened language then gets partials)
    caption_counts: dict[str, int] | None = None
    reported_listener_count: int = 0
    reported_languages: frozenset[str] = frozenset()
    terminology: str | None = None
    #: why an ended session ended (whether every listener has been told, ``endAnnounced``, only the sweep's scan reads)
    end_reason: str | None = None
    #: the speaker's ``sub``: only they may resume the session from a new connection
    speaker_user_id: str | None = None
    #: when the speaker's connection went away, while the session waits for them to come back
    speaker_away_since: float | None = None
    #: when the last ``broadcastStateChanged`` went to the listeners (``session_management.control``)
    control_sent_at: float | None = None
    title: str | None = None
    presenter: str | None = None
    #: a private talk's passcode as a salted hash (``session_management.passcodes``); kept out of any repr
    passcode_hash: str | None = field(default=None, repr=False)
    #: what the session has been billed on so far (the cost meter's counts, added as they are flushed)
    usage: SessionUsage = field(default_factory=SessionUsage)
    #: seconds of the session's audio the transcription worker has claimed (its checkpoint's ``audioOffset``, paused
    #: chunks included), and of them those it streams to the recogniser (``audioHeard``: paused chunks carry no audio)
    audio_offset: float = 0.0
    audio_heard: float = 0.0
    #: the speaker closed the session to questions (``setQuestions``)
    questions_closed: bool = False
    #: the transcription worker holds the captions back: Transcribe's concurrent-stream quota refused the stream
    captions_delayed: bool = False

    @property
    def is_active(self) -> bool:
        return self.state is SessionState.ACTIVE

    @property
    def is_private(self) -> bool:
        return self.passcode_hash is not None

    @property
    def billed_usage(self) -> SessionUsage:
        """:attr:`usage`, its recognised audio at least :attr:`audio_heard`: the worker's meter adds the audio it
        streamed at least once a minute, its checkpoint moves at every chunk, and Transcribe bills what it streams
        (a 20-s talk ended at once had 0.0 s metered)."""
        if self.audio_heard <= self.usage.audio_seconds:
            return self.usage
        return replace(self.usage, audio_seconds=self.audio_heard)

    @property
    def caption_languages(self) -> frozenset[str]:
        """The listened languages where someone shows captions (every listened one for a session without
        ``captionCounts``)."""
        counts = self.language_counts if self.caption_counts is None else self.caption_counts
        return frozenset(language for language, count in counts.items() if count > 0)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Session:
        return cls(
            session_id=item["sessionId"],
            speaker_connection_id=item["speakerConnectionId"],
            source_language=item["sourceLanguage"],
            quality_tier=item.get("qualityTier", "standard"),
            state=SessionState(item["state"]),
            created_at=float(item["createdAt"]),
            is_paused=bool(item.get("isPaused", False)),
            is_muted=bool(item.get("isMuted", False)),
            volume=float(item.get("volume", 1)),
            ended_at=float(item["endedAt"]) if "endedAt" in item else None,
            listener_count=int(item.get("listenerCount", 0)),
            language_counts={k: int(v) for k, v in item.get("languageCounts", {}).items()},
            caption_counts={k: int(v) for k, v in item["captionCounts"].items()} if "captionCounts" in item else None,
            reported_listener_count=int(item.get("reportedListenerCount", 0)),
            reported_languages=frozenset(item.get("reportedLanguages", ())),
            terminology=item.get("terminology"),
            end_reason=item.get("endReason"),
            speaker_user_id=item.get("speakerUserId"),
            speaker_away_since=float(item["speakerAwaySince"]) if "speakerAwaySince" in item else None,
            control_sent_at=float(item["controlSentAt"]) if "controlSentAt" in item else None,
            title=item.get("title"),
            presenter=item.get("presenter"),
            passcode_hash=item.get("passcodeHash"),
            usage=SessionUsage.from_item(item),
            audio_offset=float(item.get("audioOffset", 0)),
            audio_heard=float(item.get("audioHeard", 0)),
            questions_closed=bool(item.get("questionsClosed", False)),
            captions_delayed=bool(item.get("captionsDelayed", False)),
        )


def dynamo_number(value: float) -> Decimal:
    """A float as DynamoDB wants it (boto3 refuses floats)."""
    return Decimal(str(round(value, 6)))
