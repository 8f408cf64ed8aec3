"""``sendAudio``'s runtime, built once per execution environment, and its route decorator (the transcription
worker's: :mod:`audio_transcription.worker_app`)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from audio_transcription.ingest import AudioIngest
from audio_transcription.settings import AudioSettings
from broadcast_shared import aws
from broadcast_shared.clock import Clock
from broadcast_shared.config import RouteSettings
from broadcast_shared.repositories.connections import RememberingConnections
from broadcast_shared.runtime import RouteRuntime
from broadcast_shared.warm_up import WarmUp
from broadcast_shared.websocket import LazyRuntime, route_decorator


@dataclass(frozen=True)
class AudioRuntime(RouteRuntime):
    """The shared WebSocket route runtime plus what ``sendAudio`` needs."""

    audio: AudioSettings
    ingest: AudioIngest

    def warm_up(self, event: WarmUp) -> dict[str, Any]:
        """Load the chunk measurement (numpy) ahead of the audio (``createSession`` sends this with the session)."""
        self.ingest.load_measurement()
        return {"measurement": True}

    @classmethod
    def build_audio(
        cls, settings: RouteSettings, audio: AudioSettings, clock: Clock | None = None, kinesis: object | None = None
    ) -> AudioRuntime:
        base = RouteRuntime.build_route(settings, clock)
        ingest = AudioIngest(audio, kinesis or aws.client("kinesis"), base.sessions, base.rate_limiter, base.clock)
        built = {f.name: getattr(base, f.name) for f in fields(RouteRuntime)}
        built["connections"] = RememberingConnections(
            base.dynamodb.Table(settings.connections_table),
            settings.connections_by_session_index,
            settings.record_ttl_seconds,
            audio.remember_connection_seconds,
            base.clock,
        )
        return cls(**built, audio=audio, ingest=ingest)

    @classmethod
    def from_environment(cls) -> AudioRuntime:
        return cls.build_audio(RouteSettings.from_environment(), AudioSettings.from_environment())


def audio_size(runtime: AudioRuntime) -> int:
    return runtime.audio.max_audio_message_bytes


def audio_rate(runtime: AudioRuntime) -> tuple[str, int]:
    return "audio", runtime.audio.audio_rate_per_second


runtime = LazyRuntime(AudioRuntime.from_environment)
route = route_decorator(runtime, max_bytes=audio_size, rate=audio_rate)
