"""The speech policy under a throttling Polly: the pipeline's real Polly client (botocore's retries, the
segment's budget) against the local runtime's Polly stand-in with its account quota turned low, the only
stand-in being at the network edge (issue #21, docs/ARCHITECTURE.md "Throttling")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from botocore.stub import Stubber

from broadcast_shared import aws
from broadcast_shared.messages.segments import NEUTRAL_DYNAMICS
from broadcast_shared.meter import Meter, scope
from local_runtime.management_api import ManagementApiServer, RecordingSink
from local_runtime.metering import meter_counts
from local_runtime.quotas import AccountBuckets, EmulatedQuotas
from local_runtime.stand_ins import StoodInServices
from tests.support.engines import RecordingTranslator
from tests.support.events import FakeLambdaContext
from translation_pipeline.app import PipelineRuntime
from translation_pipeline.handlers.translate_segment import handler
from translation_pipeline.speech.policy import SpeechPolicy
from translation_pipeline.speech.polly import POLLY_CONFIG, PollySynthesizer

#: a rate so low its bucket never refills during a test: the burst is all there is
NEVER = 1e-6


@pytest.fixture
def meter(monkeypatch: pytest.MonkeyPatch) -> Meter:
    fresh = Meter()
    monkeypatch.setattr("broadcast_shared.aws.meter", fresh)
    monkeypatch.setattr("translation_pipeline.speech.policy.meter", fresh)
    return fresh


@contextmanager
def edge(neural_burst: float, standard_burst: float) -> Iterator[tuple[AccountBuckets, str]]:
    quotas = EmulatedQuotas(
        polly_neural_tps=NEVER,
        polly_neural_burst=neural_burst,
        polly_standard_tps=NEVER,
        polly_standard_burst=standard_burst,
    )
    buckets = AccountBuckets(quotas)
    server = ManagementApiServer(RecordingSink(), stand_ins=StoodInServices(buckets)).start()
    try:
        yield buckets, server.base_url
    finally:
        server.stop()


def polly(url: str) -> PollySynthesizer:
    return PollySynthesizer(aws.client("polly", endpoint_url=url, config=POLLY_CONFIG))


def counts(meter: Meter, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, float]]:
    """Session s-1's Polly counts for Spanish finals, by the call key's detail (its engine, or none)."""
    capsys.readouterr()
    meter.flush()
    found = meter_counts("f", capsys.readouterr().out.splitlines())
    return {
        key.detail: dict(values)
        for key, values in found.items()
        if (key.service, key.session, key.language, key.segment_kind) == ("polly", "s-1", "es", "final")
    }


def test_a_throttled_neural_voice_falls_back_to_the_standard_voice_then_speech_is_skipped(aws_endpoint, meter, capsys):
    with edge(neural_burst=1, standard_burst=1) as (buckets, url):
        policy = SpeechPolicy(polly(url), budget_seconds=0.5)
        with scope(session="s-1", language="es", kind="final"):
            outcomes = [policy.speak("Hola a todos.", "es", NEUTRAL_DYNAMICS, 1.0) for _ in range(3)]
        assert [o.status for o in outcomes] == ["neural", "standard", "skipped"]
        assert outcomes[0].speech is not None and outcomes[0].speech.data.startswith(b"OggS")
        assert outcomes[1].speech is not None and outcomes[1].speech.engine == "standard"
        assert outcomes[2].speech is None
        # The budget (0.5 s) is shorter than botocore's first backoff (up to 1 s): no retry was made.
        assert buckets.refused() == {
            "polly-neural": 2,
            "polly-standard": 1,
            "translate": 0,
            "management-api": 0,
            "transcribe-streams": 0,
        }
        counted = counts(meter, capsys)
        # Billed: the two calls that spoke, by engine (a throttled call is not billed).
        assert counted["Engine=neural"]["AwsCalls"] == counted["Engine=standard"]["AwsCalls"] == 1
        degradations = ("ThrottledCalls", "SpeechFallbacks", "SpeechSkipped")
        assert {name: counted[""][name] for name in degradations} == dict(zip(degradations, (3, 1, 1), strict=True))


def test_a_throttled_neural_call_falls_back_at_once_and_the_standard_voice_is_retried_while_the_budget_lasts(
    aws_endpoint,
):
    with edge(neural_burst=1, standard_burst=1) as (buckets, url):
        # A budget long enough for botocore's standard mode to use its three attempts (backoffs up to 1 s, 2 s).
        policy = SpeechPolicy(polly(url), budget_seconds=8)
        outcomes = [policy.speak("Hola.", "es", NEUTRAL_DYNAMICS, 1.0) for _ in range(3)]
        assert [o.status for o in outcomes] == ["neural", "standard", "skipped"]
        refused = buckets.refused()
        # Each throttled neural call gave way to the standard voice without a retry; the standard voice, which has
        # nothing after it, was tried three times.
        assert (refused["polly-neural"], refused["polly-standard"]) == (2, 3)


def test_speech_that_fails_for_another_reason_is_skipped_without_trying_the_standard_voice(aws_endpoint):
    client = aws.client("polly", config=POLLY_CONFIG)
    with Stubber(client) as stub:
        stub.add_client_error("synthesize_speech", "ServiceFailureException", http_status_code=500)
        outcome = SpeechPolicy(PollySynthesizer(client), budget_seconds=2).speak("Hola.", "es", NEUTRAL_DYNAMICS, 1.0)
        stub.assert_no_pending_responses()
    assert outcome.status == "skipped" and outcome.speech is None


def test_a_voice_without_a_neural_version_is_spoken_standard_without_a_fallback(aws_endpoint):
    with edge(neural_burst=1, standard_burst=1) as (buckets, url):
        outcome = SpeechPolicy(polly(url), budget_seconds=1).speak("Привет.", "ru", NEUTRAL_DYNAMICS, 1.0)
        assert outcome.status == "standard"
        assert buckets.refused()["polly-neural"] == 0


def test_a_throttled_warm_up_is_not_retried(aws_endpoint, settings, translation_settings, clock):
    with edge(neural_burst=1, standard_burst=1) as (buckets, url):
        runtime = PipelineRuntime.build(settings, translation_settings, clock, RecordingTranslator(), polly(url))
        warm_up = {"type": "warmUp", "sourceLanguage": "en", "targetLanguage": "es"}
        results = [handler.using(runtime)(warm_up, FakeLambdaContext()) for _ in range(2)]
        assert [result["warmed"] for result in results] == ["es", "es"]
        # The second warm-up met an empty neural bucket once and gave up: botocore's retries would have taken two
        # more calls from the quota the talk's speech needs.
        assert buckets.refused()["polly-neural"] == 1
