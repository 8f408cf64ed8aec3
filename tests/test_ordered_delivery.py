"""Listeners get a language's finals in the speaker's order: the worker's ordered lanes in front of the real
translation pipeline, with the Lambda Invoke API as the only stand-in (in process, or over HTTP)."""

from __future__ import annotations

import io
import json
import threading

import boto3
import pytest

from audio_transcription.forwarder import ForwardingLimits, SegmentForwarder, forward_config
from broadcast_shared.messages.segments import TranscriptSegment
from broadcast_shared.observability import metrics
from local_runtime.management_api import ManagementApiServer
from tests.support.engines import RecordingSynthesizer, RecordingTranslator
from tests.support.events import FakeLambdaContext
from tests.support.metrics import emitted_metrics
from tests.support.tables import transcripts_table, translation_cache_table
from tests.support.waiting import eventually
from translation_pipeline.app import PipelineRuntime
from translation_pipeline.handlers.translate_segment import handler
from translation_pipeline.settings import TranslationSettings


def segment(session_id: str, number: int, text: str | None = None, is_partial: bool = False) -> TranscriptSegment:
    return TranscriptSegment(
        session_id=session_id,
        source_language="en",
        segment_id=f"s0-u{number}",
        text=text or f"sentence {number}",
        is_partial=is_partial,
        stability=0.5 if is_partial else 1.0,
        start_time=float(number),
        end_time=number + 0.9,
    )


class PipelineOverLambda:
    """The Lambda Invoke API in front of the real pipeline handler, in process."""

    def __init__(self, runtime: PipelineRuntime) -> None:
        self._handler = handler.using(runtime)
        self.payloads: list[dict] = []

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict:  # noqa: N803 - boto3's names
        event = json.loads(Payload)
        self.payloads.append(event)
        try:
            result = self._handler(event, FakeLambdaContext())
        except Exception as exc:  # noqa: BLE001 - what Lambda reports for an unhandled error
            body = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(body).encode())}
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}


class GatedTranslator(RecordingTranslator):
    """Holds the translation of any text containing a key until that key's gate opens (10 s at most)."""

    def __init__(self) -> None:
        super().__init__()
        self.gates: dict[str, threading.Event] = {}
        #: the languages whose translation reached a closed gate
        self.reached: dict[str, threading.Event] = {"es": threading.Event(), "fr": threading.Event()}

    def translate(self, text, source, target, terminology=None):
        for key, gate in self.gates.items():
            if key in text:
                self.reached.setdefault(target, threading.Event()).set()
                assert gate.wait(10), f"the gate for {key!r} never opened"
        return super().translate(text, source, target, terminology)


@pytest.fixture
def session(harness) -> str:
    session_id = harness.speaker_with_session()
    for connection, language in (("es-1", "es"), ("es-2", "es"), ("fr-1", "fr")):
        harness.listener_in(session_id, connection, language)
    return session_id


@pytest.fixture
def translator() -> GatedTranslator:
    return GatedTranslator()


@pytest.fixture
def pipeline(settings, clock, translator) -> PipelineRuntime:
    translation = TranslationSettings(
        translation_cache_table=translation_cache_table(settings), transcripts_table=transcripts_table(settings)
    )
    return PipelineRuntime.build(settings, translation, clock, translator, RecordingSynthesizer())


def forwarder_for(lambda_client, runtime, **limits) -> SegmentForwarder:
    return SegmentForwarder(lambda_client, "translate-segment", runtime.sessions, ForwardingLimits(**limits))


def captions(harness, connection: str) -> list[tuple[str, bool]]:
    return [(m["segmentId"], m["isPartial"]) for m in harness.sink.messages(connection, "translation")]


def test_two_segments_whose_translations_finish_in_reverse_order_are_still_delivered_in_order(
    session, harness, runtime, pipeline, translator
):
    translator.gates["sentence 1"] = gate = threading.Event()
    forwarder = forwarder_for(PipelineOverLambda(pipeline), runtime)
    forwarder.forward(segment(session, 1))  # its translation is held...
    forwarder.forward(segment(session, 2))  # ...while this one is ready to go at once
    gate.set()
    forwarder.drain(session)
    for connection in ("es-1", "es-2", "fr-1"):
        assert captions(harness, connection) == [("s0-u1", False), ("s0-u2", False)]


def test_a_slow_language_does_not_delay_another(session, harness, runtime, pipeline, translator):
    # es cannot translate anything until fr has received both finals: a shared lane would never get there.
    fr_done = threading.Event()

    class FrenchFirst(GatedTranslator):
        def translate(self, text, source, target, terminology=None):
            if target == "es":
                assert fr_done.wait(10), "fr waited for es"
            return super().translate(text, source, target, terminology)

    slow = FrenchFirst()
    translation = TranslationSettings(
        translation_cache_table=translation_cache_table(runtime.settings),
        transcripts_table=transcripts_table(runtime.settings),
    )
    lambda_client = PipelineOverLambda(
        PipelineRuntime.build(runtime.settings, translation, runtime.clock, slow, RecordingSynthesizer())
    )
    forwarder = forwarder_for(lambda_client, runtime)
    forwarder.forward(segment(session, 1))
    forwarder.forward(segment(session, 2))
    eventually(lambda: len(captions(harness, "fr-1")) >= 2, interval=0.01, what="fr's two captions")
    assert captions(harness, "fr-1") == [("s0-u1", False), ("s0-u2", False)]
    assert captions(harness, "es-1") == []  # es is still held: fr did not wait for it
    fr_done.set()
    forwarder.drain(session)
    assert captions(harness, "es-1") == [("s0-u1", False), ("s0-u2", False)]


def test_a_lost_segment_is_skipped_after_the_bounded_wait_and_the_session_goes_on(
    session, harness, runtime, pipeline, capsys
):
    in_process = PipelineOverLambda(pipeline)
    release = threading.Event()

    class LosingOne:
        """The Invoke API: segment 2's invocation never answers (until the test ends)."""

        def invoke(self, function, payload, asynchronous):
            if payload["segmentId"] == "s0-u2":
                release.wait(30)
                return {}, None
            response = in_process.invoke(
                FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(payload).encode()
            )
            return json.loads(response["Payload"].read()), None

    server = ManagementApiServer(harness.sink, invoker=LosingOne()).start()
    capsys.readouterr()
    try:
        client = boto3.client("lambda", endpoint_url=server.base_url, config=forward_config(0.5))
        forwarder = forwarder_for(client, runtime)
        for number in (1, 2, 3):
            forwarder.forward(segment(session, number))
        forwarder.drain(session)
    finally:
        release.set()
        server.stop()
    for connection in ("es-1", "fr-1"):
        assert captions(harness, connection) == [("s0-u1", False), ("s0-u3", False)]
    # the lost final once per lane (es, fr and the source language's), on the metric the segments-forward-failed
    # alarm watches; the in-process pipeline flushes the metrics it shares with the worker, the rest are flushed here
    metrics.flush_metrics()
    assert emitted_metrics(capsys)["SegmentsForwardFailed"] == 3


def test_only_the_newest_partial_goes_out_and_a_final_replaces_partials_still_waiting(
    session, harness, runtime, pipeline, translator
):
    translator.gates["first"] = gate = threading.Event()
    forwarder = forwarder_for(PipelineOverLambda(pipeline), runtime, partial_rate=1000.0)
    forwarder.forward(segment(session, 1, "first words", is_partial=True))  # in flight, held
    assert translator.reached["es"].wait(10) and translator.reached["fr"].wait(10)  # both lanes took it
    for text in ("first words of", "first words of the", "first words of the talk"):
        forwarder.forward(segment(session, 1, text, is_partial=True))
    forwarder.forward(segment(session, 1, "first words of the talk today"))
    forwarder.forward(segment(session, 2, "then more", is_partial=True))
    gate.set()
    forwarder.drain(session)  # a partial left at the end is dropped: its final follows in the next run
    texts = [(m["text"], m["isPartial"]) for m in harness.sink.messages("es-1", "translation")]
    assert texts == [("<es> first words", True), ("<es> first words of the talk today", False)]


def test_a_large_audience_gets_fewer_partials_so_they_stay_within_the_call_budget(runtime):
    forwarder = SegmentForwarder(
        None, "f", runtime.sessions, ForwardingLimits(partial_rate=2.0, partial_calls_per_second=2500.0)
    )
    assert forwarder.partial_interval(100) == 0.5  # the configured rate
    assert forwarder.partial_interval(5000) == 2.0  # 5,000 listeners x 0.5 partials/s = 2,500 calls/s


def test_partials_to_a_large_audience_stay_within_the_call_budget_under_a_throttling_management_api(
    session, harness, runtime, settings, clock
):
    """The stand-in throttles beyond 90 calls/s (burst 130: a partial and its final back to back). 61 listeners
    at a budget of 61 calls/s get one partial a second: 0 throttled; at the plain 2 a second, the final would be."""

    from broadcast_shared.runtime import Runtime
    from tests.support.management_standin import Behaviour, StandIn

    listeners = [f"es-{n}" for n in range(3, 60)]
    for connection in listeners:
        harness.listener_in(session, connection, "es")
    audience = ["es-1", "es-2", *listeners]  # and fr-1, in its own lane
    standin = StandIn(Behaviour(median_ms=2, p99_ms=20, rate_per_second=90, burst=130, gone_share=0)).start()
    try:
        notifier = Runtime.build(
            settings.model_copy(update={"management_api_endpoint": standin.endpoint}), clock
        ).notifier

        class FanOutOnly:
            """The Lambda Invoke API in front of a pipeline that only fans out (the real Notifier)."""

            def invoke(self, FunctionName, InvocationType, Payload):  # noqa: N803 - boto3's names
                event = TranscriptSegment.model_validate_json(Payload)
                targets = audience if event.target_language == "es" else ["fr-1"]
                caption = {"type": "translation", "segmentId": event.segment_id, "text": event.text}
                notifier.fan_out_encoded(targets, json.dumps(caption).encode())
                return {"StatusCode": 200, "Payload": io.BytesIO(b"{}")}

        forwarder = SegmentForwarder(
            FanOutOnly(),
            "translate-segment",
            runtime.sessions,
            ForwardingLimits(partial_rate=2.0, partial_calls_per_second=61.0),
        )
        words = "one two three four five".split()
        for count in range(1, len(words) + 1):
            forwarder.forward(segment(session, 1, " ".join(words[:count]), is_partial=True))
            calls = count * len(audience)  # each partial waits until the previous one reached everyone
            eventually(lambda calls=calls: standin.report()["calls"] >= calls, what=f"partial {count} to everyone")
        forwarder.forward(segment(session, 1, " ".join(words)))
        forwarder.drain(session)
        report = standin.report()
    finally:
        standin.stop()
    assert report["throttled"] == 0
    assert set(audience) <= set(report["delivered"])


def test_a_session_is_warmed_up_per_language_without_holding_its_lanes(session, harness, runtime, pipeline, translator):
    lambda_client = PipelineOverLambda(pipeline)
    forwarder = forwarder_for(lambda_client, runtime)
    forwarder.warm_up(session, "en")
    forwarder.forward(segment(session, 1))
    forwarder.drain(session)
    warm_ups = [e for e in lambda_client.payloads if e.get("type") == "warmUp"]
    assert sorted(e["targetLanguage"] for e in warm_ups) == ["es", "fr"]
    assert ("sentence 1", "en", "es") in translator.calls and ("Hello.", "en", "fr") in translator.calls
    assert captions(harness, "es-1") == [("s0-u1", False)]  # the warm-up itself sends nothing


def invoked(lambda_client: PipelineOverLambda) -> list[tuple[str, str, bool]]:
    """The pipeline invokes the lanes made: (language, segment, partial)."""
    return [(e["targetLanguage"], e["segmentId"], e["isPartial"]) for e in lambda_client.payloads if "segmentId" in e]


def test_a_language_whose_listeners_all_listen_only_gets_finals_and_no_partial_work(
    harness, runtime, pipeline, translator
):
    session = harness.speaker_with_session()
    harness.listener_in(session, "es-1", "es")
    harness.listener_in(session, "fr-1", "fr", captions=False)
    harness.listener_in(session, "fr-2", "fr", captions=False)
    lambda_client = PipelineOverLambda(pipeline)
    forwarder = forwarder_for(lambda_client, runtime, partial_rate=1000.0)
    forwarder.forward(segment(session, 1, "first words", is_partial=True))
    eventually(lambda: captions(harness, "es-1"), interval=0.01, what="es's partial")
    forwarder.forward(segment(session, 1, "first words of the talk"))
    forwarder.drain(session)
    # No invoke, no translation and no message for fr's partial; its final to every language (and the source's).
    assert sorted(invoked(lambda_client)) == [
        ("en", "s0-u1", False),
        ("es", "s0-u1", False),
        ("es", "s0-u1", True),
        ("fr", "s0-u1", False),
    ]
    assert [text for text, _, target in translator.calls if target == "fr"] == ["first words of the talk"]
    assert captions(harness, "es-1") == [("s0-u1", True), ("s0-u1", False)]
    for connection in ("fr-1", "fr-2"):
        assert captions(harness, connection) == [("s0-u1", False)]


def test_a_captions_listener_joining_mid_talk_gets_the_next_partial(harness, runtime, pipeline):
    session = harness.speaker_with_session()
    harness.listener_in(session, "fr-1", "fr", captions=False)
    lambda_client = PipelineOverLambda(pipeline)
    forwarder = forwarder_for(lambda_client, runtime, partial_rate=1000.0, audience_refresh_seconds=0.0)
    forwarder.forward(segment(session, 1, "first words", is_partial=True))
    harness.listener_in(session, "fr-2", "fr")  # shows captions
    forwarder.forward(segment(session, 1, "first words of", is_partial=True))
    eventually(lambda: captions(harness, "fr-2"), interval=0.01, what="the new listener's partial")
    forwarder.forward(segment(session, 1, "first words of the talk"))
    forwarder.drain(session)
    # The first partial went nowhere (nobody showed captions); the next one went to fr.
    assert sorted(invoked(lambda_client)) == [("en", "s0-u1", False), ("fr", "s0-u1", False), ("fr", "s0-u1", True)]
    assert captions(harness, "fr-2") == [("s0-u1", True), ("s0-u1", False)]
    assert captions(harness, "fr-1") == [("s0-u1", False)]  # the one who only listens still gets no partial
