"""The audio service's settings, read from the environment once per execution environment."""

from typing import Literal

from pydantic import Field

from broadcast_shared.config import EnvironmentSettings, NonEmpty

SAMPLE_RATE = 16_000
BYTES_PER_SAMPLE = 2


def pcm_seconds(pcm: bytes) -> float:
    """How long 16 kHz 16-bit mono PCM lasts."""
    return len(pcm) / (SAMPLE_RATE * BYTES_PER_SAMPLE)


class AudioSettings(EnvironmentSettings):
    """What sendAudio and the transcription worker read."""

    #: the Kinesis data stream ``sendAudio`` appends to, keyed by session id
    audio_stream_name: NonEmpty
    #: ``transcribe`` (Amazon Transcribe streaming), ``pocketsphinx`` (local, English) or ``scripted`` (local load
    #: runs: a timed transcript replayed, engines/scripted.py)
    transcription_engine: Literal["transcribe", "pocketsphinx", "scripted"] = "transcribe"
    #: Amazon Transcribe streaming's endpoint; empty: the SDK's own resolution
    #: (``AWS_ENDPOINT_URL_TRANSCRIBE_STREAMING``, ``AWS_ENDPOINT_URL``, else the Region's endpoint)
    transcribe_endpoint_url: str = ""
    #: where the local runtime emulates the account's concurrent-stream quota for the local engines
    #: (engines/local_quota.py); empty (AWS, and local runs without the runtime): no quota applied by the worker
    local_stream_quota_url: str = ""
    #: audio a session holds while Transcribe refuses its stream (the concurrent-stream quota), seconds: past it
    #: the oldest is dropped, counted (docs/ARCHITECTURE.md, "Throttling")
    refused_hold_seconds: float = Field(default=120.0, ge=10)
    #: a refused stream is opened again after the Transcribe SDK's exponential backoff (equal jitter), from this...
    stream_retry_base_seconds: float = Field(default=0.5, gt=0)
    #: ...to at most this between attempts
    stream_retry_max_backoff_seconds: float = Field(default=8.0, gt=0)
    #: the worker's table of each shard's read position (ShardPositionRepository); the worker needs it
    shard_positions_table: str = ""
    #: the control queue (session management's ``publish_broadcast_state`` consumes it), where the worker shows the
    #: listeners that captions are held back while Transcribe refuses a stream; empty: the listeners are not told
    control_queue_url: str = ""
    #: the translation pipeline function segments are forwarded to; empty: not forwarded
    translation_function_name: str = ""
    #: chunk duration bounds, in milliseconds
    min_chunk_ms: float = 20.0
    max_chunk_ms: float = 750.0
    #: the largest sendAudio message, bytes: one WebSocket frame, which API Gateway caps at 32 KB (a larger
    #: frame closes the connection, code 1009, and browsers send a message as one frame); 750 ms of audio in
    #: base64 with its JSON is about 32,060 bytes
    max_audio_message_bytes: int = 32 * 1024
    #: sendAudio messages per connection per second
    audio_rate_per_second: int = 60
    #: seconds of audio a session may send per second of time (recognition cost and shard share follow it)...
    audio_seconds_per_second: float = 1.25
    #: ...with this many seconds of audio allowed ahead at once (a reconnecting client's buffer, jitter)
    audio_burst_seconds: float = 15.0
    #: seconds of that budget one sendAudio environment pays at once and spends on the next chunks without another
    #: write (a speaker's five chunks a second cost one write a second, not five)
    audio_budget_lease_seconds: float = 1.0
    #: seconds a speaker's connection row is remembered by a sendAudio environment (its session is read at every
    #: chunk; broadcast_shared.repositories.connections.RememberingConnections)
    remember_connection_seconds: float = 5.0
    #: a session's recogniser stream is closed after this long without audio
    silence_timeout_seconds: float = 10.0
    #: recogniser streams are rolled over before this (Transcribe allows four hours)
    max_stream_seconds: float = 4 * 3600 - 300
    #: the platform closes a segment once its audio passes this many seconds...
    max_segment_seconds: float = Field(default=8.0, ge=1)
    #: ...or its text this many characters (docs/ARCHITECTURE.md, "Bounded segments")
    max_segment_characters: int = Field(default=400, ge=40)
    #: the worker stops reading its shard this long before the Lambda deadline
    deadline_margin_seconds: float = 30.0
    #: and returns after the shard has had no records for this long
    shard_idle_seconds: float = 15.0
    #: how often the worker polls its shard while it owns it (Kinesis allows 5/s per shard)
    shard_poll_seconds: float = 0.25
    #: chunks held back waiting for a missing sequence before the gap is declared...
    reorder_window: int = 64
    #: ...or seconds the first of them waits: a chunk's sendAudio may land after the next ones' (a cold start, a
    #: queue for an environment). Four local talks starting at once on two cores had chunks land up to 4.4 s after
    #: the next one, which a 2 s wait lost (docs/CAPACITY.md, "Locally"); a chunk that never comes (refused) holds
    #: the captions this long
    reorder_wait_seconds: float = 5.0
    #: how long a lane waits for the pipeline's answer per attempt before it skips the segment
    forward_wait_seconds: float = 10.0
    #: partial captions per second per session and language at most: one every 1.7 s keeps a reading listener's
    #: captions moving within 2 s during speech at a third of the partials' cost at 2 a second (docs/ARCHITECTURE.md,
    #: "Cost")
    partial_rate_per_second: float = 0.6
    #: Management API calls per second a session's partials may cost across its audience
    partial_calls_per_second: float = 2500.0

    @property
    def min_chunk_bytes(self) -> int:
        return int(SAMPLE_RATE * BYTES_PER_SAMPLE * self.min_chunk_ms / 1000)

    @property
    def max_chunk_bytes(self) -> int:
        return int(SAMPLE_RATE * BYTES_PER_SAMPLE * self.max_chunk_ms / 1000)
