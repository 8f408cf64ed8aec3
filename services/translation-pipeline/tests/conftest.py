"""Fixtures for the translation pipeline: engine doubles behind its interfaces, and its runtime."""

from __future__ import annotations

import pytest

from tests.support.engines import RecordingSynthesizer, RecordingTranslator
from tests.support.tables import transcripts_table, translation_cache_table
from translation_pipeline.app import PipelineRuntime
from translation_pipeline.settings import TranslationSettings


@pytest.fixture
def translator() -> RecordingTranslator:
    return RecordingTranslator(failing={"de"})


@pytest.fixture
def synthesizer() -> RecordingSynthesizer:
    return RecordingSynthesizer()


@pytest.fixture
def translation_settings(settings) -> TranslationSettings:
    return TranslationSettings(
        translation_cache_table=translation_cache_table(settings), transcripts_table=transcripts_table(settings)
    )


@pytest.fixture
def pipeline_runtime(settings, translation_settings, clock, translator, synthesizer) -> PipelineRuntime:
    return PipelineRuntime.build(settings, translation_settings, clock, translator, synthesizer)
