"""What a final's speech becomes when the speech service throttles (docs/ARCHITECTURE.md, "Throttling").

Each final gets ``budget_seconds`` for its speech, from its first call. Within it: the preferred voice
(neural); throttled, the standard voice at once, with what is left of the budget, its calls retried by botocore
while a retry still ends in the budget; throttled past that, or no time left, no speech. A throttled neural call is
not retried: past the quota a retry mostly meets an empty bucket too (issue #21's benchmark: 83 neural calls
refused for 34 fallbacks while it retried), and the caption, which travels with its speech, would wait out the
backoff. Other errors are retried within the budget for every voice. Any other failure that remains (no voice,
the service failing) is no speech at once: a standard voice would not fare better. The
outcome travels with the caption as ``speech``: ``neural``, ``standard`` or ``skipped``, and each throttle,
fallback and skip is counted for the session and language (:mod:`broadcast_shared.meter`) and in the
service's ``SpeechThrottled``/``SpeechFallbacks``/``SpeechSkipped`` (the alarms').
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aws_lambda_powertools.metrics import MetricUnit

from broadcast_shared import aws
from broadcast_shared.messages.segments import EmotionDynamics
from broadcast_shared.meter import meter
from broadcast_shared.observability import count_by, logger, metrics
from translation_pipeline.speech import Speech, SpeechThrottled, SpeechUnavailable, Synthesizer
from translation_pipeline.speech.ssml import build_ssml

SpeechStatus = Literal["neural", "standard", "skipped"]


@dataclass(frozen=True)
class SpeechOutcome:
    speech: Speech | None
    status: SpeechStatus


def _count(unit: str, metric: str) -> None:
    """One degradation: for the session and listened language (the meter's scope) and for the alarm."""
    meter.record("polly", "SynthesizeSpeech", {unit: 1})
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)


class SpeechPolicy:
    def __init__(
        self, synthesizer: Synthesizer, budget_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._synthesizer = synthesizer
        self._budget = budget_seconds
        self._clock = clock

    def speak(self, text: str, language: str, dynamics: EmotionDynamics, volume: float) -> SpeechOutcome:
        ends_at = self._clock() + self._budget
        synthesizer = self._synthesizer
        engines = synthesizer.engines(language)
        for index, engine in enumerate(engines):
            if self._clock() >= ends_at:
                break
            try:
                ssml = build_ssml(text, dynamics, volume, synthesizer.supports_pitch(language, engine))
                # A voice with a fallback after it gives way to it when throttled instead of retrying.
                with aws.deadline(ends_at, retry_throttles=index == len(engines) - 1):
                    speech = synthesizer.synthesize(ssml, language, engine)
            except SpeechThrottled as exc:
                logger.warning("speech throttled", extra={"language": language, "engine": engine, "error": str(exc)})
                _count("Throttled", "SpeechThrottled")
                continue
            except SpeechUnavailable as exc:
                logger.warning("caption sent without speech", extra={"language": language, "error": str(exc)})
                break
            if index > 0:
                _count("Fallbacks", "SpeechFallbacks")
            return SpeechOutcome(speech, "neural" if speech.engine == "neural" else "standard")
        _count("Skipped", "SpeechSkipped")
        count_by("SpeechDegraded", language=language)
        return SpeechOutcome(None, "skipped")
