"""``sendAudio``'s logic: validate a chunk, measure it, append it to the session's stream."""

from __future__ import annotations

import base64
import binascii
import contextlib
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from audio_transcription.chunks import AudioChunk, ChunkMeasurement
from audio_transcription.settings import BYTES_PER_SAMPLE, AudioSettings, pcm_seconds
from broadcast_shared.clock import Clock
from broadcast_shared.errors import BroadcastError, ErrorCode
from broadcast_shared.messages.inbound import SendAudio
from broadcast_shared.observability import logger, metrics
from broadcast_shared.repositories.rate_limits import RateLimiter
from broadcast_shared.repositories.records import Connection
from broadcast_shared.repositories.sessions import SessionsRepository


def measure_with_numpy(pcm: bytes) -> ChunkMeasurement:
    """:func:`audio_transcription.measurement.measure`, imported at its first call: numpy's import (about 40 ms)
    is then paid by the warm-up ``createSession`` sends (:meth:`AudioIngest.load_measurement`) or an unwarmed
    environment's first chunk, not by every environment's init."""
    from audio_transcription.measurement import measure

    return measure(pcm)


class AudioIngest:
    def __init__(
        self,
        settings: AudioSettings,
        kinesis: Any,
        sessions: SessionsRepository,
        rate_limiter: RateLimiter,
        clock: Clock,
        measure: Callable[[bytes], ChunkMeasurement] = measure_with_numpy,
    ) -> None:
        self._measurer = measure
        self._settings = settings
        self._kinesis = kinesis
        self._sessions = sessions
        self._rate_limiter = rate_limiter
        self._clock = clock

    def load_measurement(self) -> None:
        """Measure a chunk of silence, ahead of the talk's first chunk: numpy, and what its first FFT loads, are
        imported then. A measurement that fails here fails again on the first chunk, which logs and counts it."""
        with contextlib.suppress(Exception):
            self._measurer(bytes(self._settings.min_chunk_bytes))

    def accept(self, connection: Connection, message: SendAudio) -> AudioChunk:
        """The chunk as appended to the stream, or a :class:`BroadcastError` saying why not."""
        if not connection.session_id:
            raise BroadcastError(ErrorCode.NOT_IN_SESSION, "create a session before sending audio")
        pcm = self._decode(message.audio)
        session = self._sessions.get(connection.session_id)
        if session is None or not session.is_active:
            raise BroadcastError(ErrorCode.SESSION_ENDED, "this session has ended; audio is no longer accepted")
        self._spend_budget(session.session_id, pcm_seconds(pcm))
        chunk = AudioChunk(
            session_id=session.session_id,
            sequence=message.sequence,
            connection_id=connection.connection_id,
            received_at=self._clock.now(),
            pcm=b"" if session.is_paused else pcm,
            duration=pcm_seconds(pcm),
            measurement=None if session.is_paused else self._measure(pcm),
        )
        self._kinesis.put_record(
            StreamName=self._settings.audio_stream_name, Data=chunk.encode(), PartitionKey=chunk.session_id
        )
        metrics.add_metric(name="AudioChunksAccepted", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="AudioSecondsAccepted", unit=MetricUnit.Seconds, value=chunk.duration)
        if chunk.paused:
            metrics.add_metric(name="AudioChunksWhilePaused", unit=MetricUnit.Count, value=1)
        return chunk

    def _spend_budget(self, session_id: str, seconds: float) -> None:
        """Audio faster than real time (with a short burst) is refused: it would cost recognition for nothing
        and take the shard's throughput from the other sessions keyed to it."""
        rate, burst = self._settings.audio_seconds_per_second, self._settings.audio_burst_seconds
        lease = self._settings.audio_budget_lease_seconds
        if not self._rate_limiter.try_spend(
            f"audio-seconds#{session_id}", seconds, rate, burst, self._clock.now(), lease=lease
        ):
            metrics.add_metric(name="AudioSecondsRefused", unit=MetricUnit.Seconds, value=seconds)
            raise BroadcastError(
                ErrorCode.RATE_LIMITED,
                f"audio is arriving faster than {rate:g}x real time; send it as it is spoken",
                {"audioSecondsPerSecond": rate, "burstSeconds": burst},
            )

    def _decode(self, audio: str) -> bytes:
        try:
            pcm = base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError):
            raise BroadcastError(ErrorCode.INVALID_AUDIO, "audio must be base64-encoded PCM") from None
        if len(pcm) % BYTES_PER_SAMPLE:
            raise BroadcastError(
                ErrorCode.INVALID_AUDIO,
                f"audio is {len(pcm)} bytes; 16-bit PCM has an even number of bytes",
                {"bytes": len(pcm)},
            )
        low, high = self._settings.min_chunk_bytes, self._settings.max_chunk_bytes
        if not low <= len(pcm) <= high:
            milliseconds = pcm_seconds(pcm) * 1000
            raise BroadcastError(
                ErrorCode.INVALID_AUDIO,
                f"a chunk must hold {self._settings.min_chunk_ms:g} to {self._settings.max_chunk_ms:g} ms "
                f"of 16 kHz audio; this one holds {milliseconds:g} ms",
                {
                    "durationMs": round(milliseconds, 1),
                    "minMs": self._settings.min_chunk_ms,
                    "maxMs": self._settings.max_chunk_ms,
                },
            )
        return pcm

    def _measure(self, pcm: bytes) -> ChunkMeasurement | None:
        """Measurement failing never stops the audio: the worker falls back to neutral dynamics."""
        started = time.perf_counter()
        try:
            measurement = self._measurer(pcm)
        except Exception:  # noqa: BLE001 - any numpy failure on odd input
            logger.exception("emotion measurement failed; neutral dynamics for this chunk")
            metrics.add_metric(name="DynamicsMeasurementFailed", unit=MetricUnit.Count, value=1)
            return None
        metrics.add_metric(
            name="DynamicsMeasurementTime", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000
        )
        return measurement
