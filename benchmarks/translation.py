"""Translation pipeline: one segment to 300 listeners in three languages with the local engines.

In-process against moto and the local Management API, with apertium and espeak-ng:
- per final segment (translate, synthesize, fan out) and per partial (captions only):
  p50/p95, with a cold cache and a warm one, as a ratio;
- Management API calls per listener per final segment (the issue's budget: one);
- the largest message, against API Gateway's 128 KB;
- what partials cost: a talk spoken word by word in real time (2.5 words/s), each growing
  stable prefix forwarded as a partial through the worker's real ordered lanes
  (coalescing, 2 partials/s per language) into the pipeline: characters
  sent to the translator per character of the finals, next to translating every
  partial whole (before: 65x in issue 16's 12-minute run).
"""

from __future__ import annotations

import contextlib
import io
import json
import time

import boto3

from benchmarks.harness import aws_in_process, speaker_session
from benchmarks.session_status import seat_listeners
from benchmarks.stats import describe, percentile
from broadcast_shared.messages.segments import TranscriptSegment
from broadcast_shared.translators import Translator, translator_for
from session_management.app import SessionRuntime
from session_management.settings import SessionSettings
from tests.support.tables import fresh_settings, transcripts_table, translation_cache_table
from translation_pipeline.app import PipelineRuntime
from translation_pipeline.settings import TranslationSettings

LISTENERS = 300
LANGUAGES = ("es", "fr", "pt")
SENTENCES = [
    "Good morning everyone and welcome to the meeting.",
    "Today we will talk about the new project and the plan for next year.",
    "The team has worked very hard and we have many good results to share with you.",
    "First we will look at the numbers.",
    "Thank you for coming and please ask questions at the end.",
]


def run() -> None:
    with aws_in_process() as (management_endpoint, sink):
        settings = fresh_settings(boto3.client("dynamodb"), management_endpoint)
        translation = TranslationSettings(
            translation_cache_table=translation_cache_table(settings),
            transcripts_table=transcripts_table(settings),
            translation_engine="apertium",
            speech_engine="espeak",
        )
        base = SessionRuntime.build_session(settings)
        session_id = speaker_session(base, sink)
        seat_listeners(settings, session_id, LISTENERS, LANGUAGES)
        for n in range(LISTENERS):
            sink.open(f"listener-{n}")
        pipeline = PipelineRuntime.build(settings, translation).pipeline

        def timed(text: str, segment_id: str, partial: bool) -> tuple[float, dict[str, int]]:
            segment = _segment(session_id, segment_id, text, partial, 0.0, stability=1.0)
            with contextlib.redirect_stdout(io.StringIO()):
                started = time.perf_counter()
                delivery = pipeline.process(segment)
            return (time.perf_counter() - started) * 1000, delivery.calls_per_listener

        cold: list[float] = []
        warm: list[float] = []
        partials: list[float] = []
        calls: list[int] = []
        for round_ in range(3):
            for i, text in enumerate(SENTENCES):
                elapsed, per_listener = timed(text, f"r{round_}-f{i}", partial=False)
                (cold if round_ == 0 else warm).append(elapsed)
                calls += per_listener.values()
                partials.append(timed(" ".join(text.split()[:4]), f"r{round_}-p{i}", partial=True)[0])
        largest = max(len(json.dumps(m)) for m in sink.messages("listener-0"))
        print(f"== translation pipeline, {LISTENERS} listeners in {', '.join(LANGUAGES)} (apertium, espeak-ng, moto)")
        print(f"  final, cold cache: {describe(cold)}")
        print(
            f"  final, warm cache: {describe(warm)}   warm/cold p50 {percentile(warm, 0.5) / percentile(cold, 0.5):.2f}"
        )
        print(f"  partial (captions only): {describe(partials)}")
        mean_calls = sum(calls) / len(calls)
        print(f"  Management API calls per listener per final segment: max {max(calls)}, mean {mean_calls:.2f}")
        print(f"  largest message: {largest / 1024:.1f} KB of API Gateway's 128 KB")
        _partials_cost(settings, translation, session_id, base)


#: not translated before in this run (the cache would answer them)
CONTINUOUS_TALK = [
    "We started this project last spring with a small group of people and a very simple idea about how "
    "to make meetings easier for everyone who speaks another language",
    "Since then the group has grown and the idea has become a product that many teams use every day",
    "In the next few minutes I want to show you what we learned and where we want to go from here",
    "The first lesson was that people need the words on the screen quickly even if they are not perfect",
    "The second lesson was that the voice matters as much as the words because it carries the feeling",
    "Finally we learned that every new language brings new questions about names and numbers and dates",
]


class CountingTranslator:
    """The local engine, counting the characters it is asked to translate."""

    def __init__(self, engine: Translator) -> None:
        self._engine = engine
        self.characters = 0

    def translate(self, text: str, source: str, target: str, terminology: str | None = None) -> str:
        self.characters += len(text)
        return self._engine.translate(text, source, target, terminology)


def _partials_cost(
    settings: SessionSettings, translation: TranslationSettings, session_id: str, base: SessionRuntime
) -> None:
    from audio_transcription.forwarder import ForwardingLimits, SegmentForwarder

    words_per_second = 2.5
    counting = CountingTranslator(translator_for(translation.translation_engine))
    pipeline = PipelineRuntime.build(settings, translation, translator=counting).pipeline

    class InProcess:
        def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict:  # noqa: N803
            pipeline.process(TranscriptSegment.model_validate_json(Payload))
            return {"StatusCode": 200}

    forwarder = SegmentForwarder(InProcess(), "translate-segment", base.sessions, ForwardingLimits())
    whole = final_characters = 0
    offset = 0.0
    # The pipeline's metrics and log lines are kept off the output here, once: the forwarder invokes it from its
    # lanes' threads, and a redirect in each would restore another thread's stdout (sys.stdout is the process's).
    with contextlib.redirect_stdout(io.StringIO()):
        for n, sentence in enumerate(CONTINUOUS_TALK):
            words = sentence.split()
            segment_id = f"talk-u{n}"
            for count in range(1, len(words)):
                text = " ".join(words[:count])
                whole += len(text)
                forwarder.forward(_segment(session_id, segment_id, text, True, offset))
                time.sleep(1 / words_per_second)
            forwarder.forward(_segment(session_id, segment_id, sentence, False, offset))
            final_characters += len(sentence)
            offset += len(words) / words_per_second
        forwarder.drain(session_id)
    languages = len(LANGUAGES)
    print(
        f"  partials: {counting.characters / (final_characters * languages):.2f} characters translated per final"
        f" character (every stable-prefix growth translated whole: {(whole + final_characters) / final_characters:.2f})"
    )


def _segment(
    session_id: str, segment_id: str, text: str, partial: bool, start: float, stability: float | None = None
) -> TranscriptSegment:
    return TranscriptSegment(
        session_id=session_id,
        source_language="en",
        segment_id=segment_id,
        text=text,
        is_partial=partial,
        stability=stability if stability is not None else 0.8 if partial else 1.0,
        start_time=start,
        end_time=start + 3,
    )
