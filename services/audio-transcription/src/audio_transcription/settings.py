"""The audio service's settings, read from the environment once per execution environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from broadcast_shared.config import ConfigurationError, number, required

SAMPLE_RATE = 16_000
BYTES_PER_SAMPLE = 2


@dataclass(frozen=True)
class AudioSettings:
    #: the Kinesis data stream ``sendAudio`` appends to, keyed by session id
    audio_stream_name: str
    #: ``transcribe`` (Amazon Transcribe streaming) or ``pocketsphinx`` (local, English)
    transcription_engine: str = "transcribe"
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
    audio_burst_seconds: float = 5.0
    #: a session's recogniser stream is closed after this long without audio
    silence_timeout_seconds: float = 10.0
    #: recogniser streams are rolled over before this (Transcribe allows four hours)
    max_stream_seconds: float = 4 * 3600 - 300
    #: the platform closes a segment once its audio passes this many seconds...
    max_segment_seconds: float = 8.0
    #: ...or its text this many characters (docs/ARCHITECTURE.md, "Bounded segments")
    max_segment_characters: int = 400
    #: the worker stops reading its shard this long before the Lambda deadline
    deadline_margin_seconds: float = 30.0
    #: and returns after the shard has had no records for this long
    shard_idle_seconds: float = 15.0
    #: how often the worker polls its shard while it owns it (Kinesis allows 5/s per shard)
    shard_poll_seconds: float = 0.25
    #: chunks held back waiting for a missing sequence before the gap is declared...
    reorder_window: int = 64
    #: ...or seconds the first of them waits (cold starts of sendAudio reorder a burst)
    reorder_wait_seconds: float = 2.0
    #: how long a lane waits for the pipeline's answer per attempt before it skips the segment
    forward_wait_seconds: float = 10.0
    #: partial captions per second per session and language at most
    partial_rate_per_second: float = 2.0
    #: Management API calls per second a session's partials may cost across its audience
    partial_calls_per_second: float = 2500.0

    @property
    def min_chunk_bytes(self) -> int:
        return int(SAMPLE_RATE * BYTES_PER_SAMPLE * self.min_chunk_ms / 1000)

    @property
    def max_chunk_bytes(self) -> int:
        return int(SAMPLE_RATE * BYTES_PER_SAMPLE * self.max_chunk_ms / 1000)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> AudioSettings:
        env = os.environ if env is None else env
        engine = env.get("TRANSCRIPTION_ENGINE", "").strip() or cls.transcription_engine
        if engine not in {"transcribe", "pocketsphinx"}:
            raise ConfigurationError(f"TRANSCRIPTION_ENGINE must be transcribe or pocketsphinx, got {engine!r}")
        max_segment_seconds = number(env, "MAX_SEGMENT_SECONDS", cls.max_segment_seconds)
        max_segment_characters = int(number(env, "MAX_SEGMENT_CHARACTERS", cls.max_segment_characters))
        if max_segment_seconds < 1 or max_segment_characters < 40:
            raise ConfigurationError("MAX_SEGMENT_SECONDS must be at least 1 and MAX_SEGMENT_CHARACTERS at least 40")
        return cls(
            audio_stream_name=required(env, "AUDIO_STREAM_NAME"),
            transcription_engine=engine,
            translation_function_name=env.get("TRANSLATION_FUNCTION_NAME", "").strip(),
            audio_rate_per_second=int(number(env, "AUDIO_RATE_PER_SECOND", cls.audio_rate_per_second)),
            audio_seconds_per_second=number(env, "AUDIO_SECONDS_PER_SECOND", cls.audio_seconds_per_second),
            audio_burst_seconds=number(env, "AUDIO_BURST_SECONDS", cls.audio_burst_seconds),
            silence_timeout_seconds=number(env, "SILENCE_TIMEOUT_SECONDS", cls.silence_timeout_seconds),
            max_stream_seconds=number(env, "MAX_STREAM_SECONDS", cls.max_stream_seconds),
            max_segment_seconds=max_segment_seconds,
            max_segment_characters=max_segment_characters,
            deadline_margin_seconds=number(env, "DEADLINE_MARGIN_SECONDS", cls.deadline_margin_seconds),
            shard_idle_seconds=number(env, "SHARD_IDLE_SECONDS", cls.shard_idle_seconds),
            forward_wait_seconds=number(env, "FORWARD_WAIT_SECONDS", cls.forward_wait_seconds),
            partial_rate_per_second=number(env, "PARTIAL_RATE_PER_SECOND", cls.partial_rate_per_second),
            partial_calls_per_second=number(env, "PARTIAL_CALLS_PER_SECOND", cls.partial_calls_per_second),
        )
