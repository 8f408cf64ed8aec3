"""Server → client messages. Each has a ``type``."""

from enum import StrEnum
from typing import Any, Literal

from broadcast_shared.errors import ErrorCode
from broadcast_shared.messages.wire import WireModel


class BroadcastState(WireModel):
    is_paused: bool = False
    is_muted: bool = False
    volume: float = 1.0
    #: true while the speaker has closed the session to questions (``setQuestions``); absent when open
    questions_closed: bool | None = None
    #: true while captions are held back: speech recognition is at its limit of concurrent streams (Transcribe's
    #: quota); they follow in order once a stream opens. Absent otherwise
    captions_delayed: bool | None = None


class UpdateReason(StrEnum):
    REQUESTED = "requested"
    PERIODIC = "periodic"
    LISTENER_COUNT_CHANGE = "listenerCountChange"
    NEW_LANGUAGE = "newLanguage"


class EndReason(StrEnum):
    SPEAKER_ENDED = "speakerEnded"
    SPEAKER_DISCONNECTED = "speakerDisconnected"


class SessionCreated(WireModel):
    type: Literal["sessionCreated"] = "sessionCreated"
    session_id: str
    source_language: str
    quality_tier: str
    broadcast_state: BroadcastState
    created_at: float
    terminology: str | None = None
    #: true when ``createSession`` named this session and this connection took it over
    resumed: bool | None = None
    title: str | None = None
    presenter: str | None = None
    #: true when listeners need the passcode to join
    private: bool | None = None


class SessionJoined(WireModel):
    type: Literal["sessionJoined"] = "sessionJoined"
    session_id: str
    target_language: str
    source_language: str
    broadcast_state: BroadcastState
    title: str | None = None
    presenter: str | None = None


class LanguageChanged(WireModel):
    type: Literal["languageChanged"] = "languageChanged"
    session_id: str
    target_language: str


class ListenerCountChanged(WireModel):
    type: Literal["listenerCountChanged"] = "listenerCountChanged"
    session_id: str
    listener_count: int


class HeartbeatAck(WireModel):
    type: Literal["heartbeatAck"] = "heartbeatAck"
    timestamp: float


class SpeakerReconnecting(WireModel):
    """To listeners: the speaker's connection dropped; the session waits ``grace_seconds`` for them."""

    type: Literal["speakerReconnecting"] = "speakerReconnecting"
    session_id: str
    grace_seconds: int
    timestamp: float


class SpeakerReconnected(WireModel):
    """To listeners: the speaker is back; the session goes on."""

    type: Literal["speakerReconnected"] = "speakerReconnected"
    session_id: str
    timestamp: float


class ConnectionRefresh(WireModel):
    type: Literal["connectionRefresh"] = "connectionRefresh"
    seconds_remaining: int
    message: str


class BroadcastStateChanged(WireModel):
    type: Literal["broadcastStateChanged"] = "broadcastStateChanged"
    session_id: str
    broadcast_state: BroadcastState
    timestamp: float


class SessionEnded(WireModel):
    type: Literal["sessionEnded"] = "sessionEnded"
    session_id: str
    reason: EndReason
    timestamp: float


class Usage(WireModel):
    """What the session has been billed on so far (the cost meter's counts)."""

    audio_seconds: float
    translated_characters: int
    spoken_characters: int
    messages_sent: int


class SessionStatus(WireModel):
    type: Literal["sessionStatus"] = "sessionStatus"
    session_id: str
    listener_count: int
    language_distribution: dict[str, int]
    session_duration: int
    broadcast_state: BroadcastState
    timestamp: float
    update_reason: UpdateReason
    usage: Usage
    #: ``usage`` priced with the deployment's price file (recognition, translation, speech, messages)
    estimated_cost_usd: float


class AudienceSample(WireModel):
    """The audience at its largest in one minute of a session (``minute`` counted from its start)."""

    minute: int
    #: when in the session that largest audience was seen, in seconds from its start
    at: float
    listeners: int
    languages: dict[str, int]


class SessionReport(WireModel):
    """To the speaker after ``endSession``: the talk in figures (kept with the transcripts for their retention)."""

    type: Literal["sessionReport"] = "sessionReport"
    session_id: str
    source_language: str
    started_at: float
    ended_at: float
    duration_seconds: int
    #: the session's audio the transcription worker had taken when it ended
    audio_seconds: float
    peak_listeners: int
    #: each language's largest audience in any one sample
    peak_listeners_by_language: dict[str, int]
    listeners_over_time: list[AudienceSample]
    usage: Usage
    #: ``usage`` priced with the deployment's price file, as in ``sessionStatus``
    estimated_cost_usd: float


class Error(WireModel):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    action: str | None = None
    details: dict[str, Any] | None = None


class QualityIssue(StrEnum):
    CLIPPING = "clipping"
    SILENCE = "silence"
    SAMPLE_RATE = "sampleRate"


class AudioQualityWarning(WireModel):
    """The speaker's audio was accepted but something about it will hurt recognition."""

    type: Literal["audioQualityWarning"] = "audioQualityWarning"
    issue: QualityIssue
    message: str
    sequence: int


class Transcript(WireModel):
    """What is being recognised, sent back to the speaker (partial, then final)."""

    type: Literal["transcript"] = "transcript"
    session_id: str
    segment_id: str
    text: str
    is_partial: bool
    stability: float
    #: the span of the session's audio the text covers, in seconds
    start_time: float
    end_time: float


class SpeechAudio(WireModel):
    """A piece of synthesized speech: ``data`` is base64 of ``format`` bytes, split by ``chunkIndex``."""

    format: str
    data: str
    chunk_index: int
    final: bool


class Translation(WireModel):
    """A caption in the listener's language; a final carries its speech (or the first part of it)."""

    type: Literal["translation"] = "translation"
    session_id: str
    segment_id: str
    language: str
    text: str
    is_partial: bool
    #: False when the text is the source text because translation failed or is unavailable
    translated: bool = True
    audio: SpeechAudio | None = None
    #: a final's speech: ``neural``, ``standard`` (the fallback voice) or ``skipped`` (none: the speech service
    #: throttled past the segment's budget, or failed); absent when no speech was wanted
    speech: Literal["neural", "standard", "skipped"] | None = None
    #: where the segment starts in the session's audio, in seconds: segments in speaker order have
    #: increasing ``startTime`` (clients order and de-duplicate on it and ``segmentId``)
    start_time: float | None = None
    #: where the segment ends in the session's audio, in seconds (subtitle cue ends)
    end_time: float | None = None


class TranscriptLine(WireModel):
    """One kept final of a transcript page."""

    segment_id: str
    text: str
    start_time: float
    end_time: float | None = None
    translated: bool = True


class TranscriptPage(WireModel):
    """Answer to ``getTranscript``: finals in the speaker's order; ask again with ``nextToken`` while present."""

    type: Literal["transcriptPage"] = "transcriptPage"
    session_id: str
    language: str
    segments: list[TranscriptLine]
    next_token: str | None = None
    #: the talk's, when the speaker gave them (for a file's header)
    title: str | None = None
    presenter: str | None = None


class Audio(WireModel):
    """The rest of a final segment's speech when it does not fit in its ``translation`` message."""

    type: Literal["audio"] = "audio"
    session_id: str
    segment_id: str
    language: str
    format: str
    data: str
    chunk_index: int
    final: bool


class Question(WireModel):
    """To the speaker only: a listener's question, translated into the session's source language."""

    type: Literal["question"] = "question"
    session_id: str
    question_id: str
    #: the asker's language (their listening language), and what they typed in it
    language: str
    text: str
    #: the question in the session's source language; the original text when ``translated`` is false
    translated_text: str
    #: false when no translator serves the asker's language into the source language (or the call failed)
    translated: bool
    asked_at: float


class QuestionReceived(WireModel):
    """To the asker: the question reached the speaker's queue."""

    type: Literal["questionReceived"] = "questionReceived"
    session_id: str
    question_id: str


class QuestionMarked(WireModel):
    """To the speaker: ``markQuestion`` took effect."""

    type: Literal["questionMarked"] = "questionMarked"
    session_id: str
    question_id: str
    status: str
