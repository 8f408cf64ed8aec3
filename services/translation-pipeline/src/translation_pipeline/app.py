"""The pipeline's runtime, built once per execution environment, and its entry-point decorator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broadcast_shared import aws
from broadcast_shared.clock import Clock
from broadcast_shared.config import AudienceSettings
from broadcast_shared.errors import BroadcastError, ErrorCode
from broadcast_shared.repositories.transcripts import TranscriptsRepository
from broadcast_shared.runtime import Runtime
from broadcast_shared.translators import Translator, translator_for
from broadcast_shared.warm_up import WarmUp
from broadcast_shared.websocket import LazyRuntime, event_decorator
from translation_pipeline.cache import TranslationCache
from translation_pipeline.fanout import SLICE_CONFIG, SlicedFanOut
from translation_pipeline.pipeline import PipelineDependencies, TranslationPipeline
from translation_pipeline.progress import SegmentProgress
from translation_pipeline.settings import TranslationSettings
from translation_pipeline.speech import Synthesizer, synthesizer_for


@dataclass(frozen=True)
class PipelineRuntime:
    pipeline: TranslationPipeline

    @classmethod
    def build(
        cls,
        settings: AudienceSettings,
        translation: TranslationSettings,
        clock: Clock | None = None,
        translator: Translator | None = None,
        synthesizer: Synthesizer | None = None,
        lambda_client: object | None = None,
    ) -> PipelineRuntime:
        base = Runtime.build(settings, clock)
        cache_table = base.dynamodb.Table(translation.translation_cache_table)
        deps = PipelineDependencies(
            sessions=base.sessions,
            connections=base.connections,
            notifier=base.notifier,
            departures=base.departures,
            cache=TranslationCache(cache_table, translation.cache_ttl_seconds, base.clock),
            progress=SegmentProgress(cache_table, base.clock),
            translator=translator or translator_for(translation.translation_engine),
            synthesizer=synthesizer
            or synthesizer_for(translation.speech_engine, translation.voices, translation.prefer_neural),
            fan_out=SlicedFanOut(
                base.notifier,
                lambda_client
                or (aws.client("lambda", config=SLICE_CONFIG) if translation.fanout_function_name else None),
                translation.fanout_function_name,
                translation.fanout_slice_size,
            ),
            transcripts=TranscriptsRepository(base.dynamodb.Table(translation.transcripts_table)),
            transcript_retention_seconds=translation.transcript_retention_seconds,
            clock=base.clock,
            speech_budget_seconds=translation.speech_budget_seconds,
            translation_budget_seconds=translation.translation_budget_seconds,
        )
        return cls(pipeline=TranslationPipeline(deps))

    def warm_up(self, event: WarmUp) -> dict[str, Any]:
        """Load the engines for the language pair a warm-up names (the worker's at a session's first audio,
        ``joinSession``'s for a language's first listener); a warm-up without a target names no pair."""
        if event.target_language is None:
            raise BroadcastError(ErrorCode.INVALID_MESSAGE, "a translation warm-up needs targetLanguage")
        return self.pipeline.warm_up(event.source_language, event.target_language)

    @classmethod
    def from_environment(cls) -> PipelineRuntime:
        return cls.build(AudienceSettings.from_environment(), TranslationSettings.from_environment())


runtime = LazyRuntime(PipelineRuntime.from_environment)
on_event = event_decorator(runtime)
