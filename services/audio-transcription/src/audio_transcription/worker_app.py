"""The transcription worker's runtime, built once per execution environment, and its entry-point decorator.

Apart from ``sendAudio``'s (:mod:`audio_transcription.app`): the worker imports neither the ingest nor numpy,
which only ``sendAudio`` measures chunks with."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from audio_transcription.checkpoints import CheckpointRepository, ShardPositionRepository
from audio_transcription.engines import Recognizer, recognizer_for
from audio_transcription.forwarder import ForwardingLimits, SegmentForwarder, forward_config
from audio_transcription.settings import AudioSettings
from audio_transcription.transcription import Dependencies
from audio_transcription.worker import TranscriptionWorker
from broadcast_shared import aws
from broadcast_shared.clock import Clock, SystemClock
from broadcast_shared.config import ConfigurationError, Settings
from broadcast_shared.control_queue import FollowUpQueue
from broadcast_shared.runtime import notifier, sessions_repository
from broadcast_shared.warm_up import WarmUp
from broadcast_shared.websocket import LazyRuntime, event_decorator


@dataclass(frozen=True)
class WorkerRuntime:
    """What the transcription worker needs, built once per execution environment: no listeners' index, no
    rate limiter (it answers no client message), so it reads only the shared :class:`Settings`."""

    worker: TranscriptionWorker

    def warm_up(self, event: WarmUp) -> dict[str, Any]:
        """Load the recogniser for the session's language (``createSession`` sends this ahead of the audio)."""
        self.worker.prepare(event.source_language)
        return {"recognizer": event.source_language}

    @classmethod
    def build_worker(
        cls,
        settings: Settings,
        audio: AudioSettings,
        clock: Clock | None = None,
        recognizer: Recognizer | None = None,
        lambda_client: object | None = None,
        kinesis: object | None = None,
    ) -> WorkerRuntime:
        if not audio.shard_positions_table:
            raise ConfigurationError("the transcription worker needs SHARD_POSITIONS_TABLE")
        clock = clock or SystemClock()
        dynamodb = aws.resource("dynamodb")
        sessions = sessions_repository(settings, dynamodb)
        deps = Dependencies(
            settings=audio,
            recognizer=recognizer
            or recognizer_for(audio.transcription_engine, audio.transcribe_endpoint_url, audio.local_stream_quota_url),
            checkpoints=CheckpointRepository(dynamodb.Table(settings.sessions_table)),
            sessions=sessions,
            notifier=notifier(settings),
            forwarder=SegmentForwarder(
                lambda_client or aws.client("lambda", config=forward_config(audio.forward_wait_seconds)),
                audio.translation_function_name,
                sessions,
                ForwardingLimits(
                    partial_rate=audio.partial_rate_per_second,
                    partial_calls_per_second=audio.partial_calls_per_second,
                    drain_seconds=max(1.0, audio.deadline_margin_seconds - 10),
                ),
            ),
            clock=clock,
            control=functools.cache(lambda: FollowUpQueue(aws.client("sqs"), audio.control_queue_url))
            if audio.control_queue_url
            else None,
        )
        positions = ShardPositionRepository(dynamodb.Table(audio.shard_positions_table))
        return cls(worker=TranscriptionWorker(deps, kinesis or aws.client("kinesis"), positions))

    @classmethod
    def from_environment(cls) -> WorkerRuntime:
        return cls.build_worker(Settings.from_environment(), AudioSettings.from_environment())


worker_runtime = LazyRuntime(WorkerRuntime.from_environment)
on_worker_event = event_decorator(worker_runtime)
