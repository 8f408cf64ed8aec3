"""Throttling through the local platform (issue #21, docs/ARCHITECTURE.md "Throttling"): the account's quotas
emulated low at the network edge (tools/local_runtime/quotas.py) while a talk streams to listeners.

The pipeline runs on its AWS engines (``SPEECH_ENGINE=polly``, ``TRANSLATION_ENGINE=translate``): its real
boto3 clients, botocore's retries and the pipeline's budgets meet the local runtime's Polly and Translate
stand-ins, which answer ``ThrottlingException`` past the bucket, as AWS does. Then every final reaches every
listener in the speaker's order with its text, its speech ``neural``, ``standard`` (the fallback voice, with
audio) or ``skipped`` (without): none silently missing; the captions whose translation was throttled come in
the source text marked ``translated: false``; and the session's counts (the cost meter's EMF in the
function's log) match what the listeners saw, per language. With the Management API's request rate emulated
low, a message throttled past botocore's retries is dropped for that listener only, and counted. With Transcribe's
concurrent streams emulated at one, held by another talk, a talk's stream is refused: its speaker is told
``TRANSCRIPTION_THROTTLED``, its listeners shown ``captionsDelayed``, its audio held, and once the other talk lets
the stream go its captions come from the start of the talk, in order, and the listeners are shown that they flow.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

import boto3
import pytest

from broadcast_shared.repositories.records import SessionState
from broadcast_tools.speech import TALK, synthesize, word_error_rate
from local_runtime.metering import LogWindow, meter_counts
from local_runtime.quotas import EmulatedQuotas
from tests.support.deployment import emulator_client, emulator_options, forget_translations
from tests.support.running_platform import RunningPlatform
from tests.support.talk import TalkResult, stream_talk
from tests.support.waiting import eventually
from tests.test_faults_e2e import finals_heard

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(2.5)]

PIPELINE = "speech-broadcast-local-translate-segment"
WORKER = "speech-broadcast-local-transcription-worker"
LISTENERS = ("es", "fr")
#: Polly's neural voice at one call every twenty seconds, burst 1 (AWS: 8 a second, burst 10): the session's warm-ups
#: take it, so the talk's finals meet a throttled neural voice; standard at one every five seconds (AWS: 80);
#: Translate at one every two seconds, burst 3. A talk to two languages needs several calls a second of each.
LOW_QUOTAS = EmulatedQuotas(
    polly_neural_tps=0.05,
    polly_neural_burst=1,
    polly_standard_tps=0.2,
    polly_standard_burst=1,
    translate_tps=0.5,
    translate_burst=3,
)
#: the Management API at one request every ten seconds after a burst of ten (AWS: 10,000 a second, burst 5,000):
#: enough for the session's set-up messages, far below what a talk's partials and finals to a speaker and two
#: listeners need, however slowly a loaded machine recognises the talk
LOW_REQUEST_RATE = EmulatedQuotas(management_api_rps=0.1, management_api_burst=10)
#: one concurrent Transcribe stream for the account (AWS: 25), which the test holds as another talk would
ONE_STREAM = EmulatedQuotas(transcribe_concurrent_streams=1)


@pytest.fixture(scope="module")
def talk() -> bytes:
    return synthesize(TALK)


@pytest.fixture(scope="module")
def aws_engines(deployed_local) -> Iterator[str]:
    """The pipeline on Amazon Polly and Translate (stood in at the edge), its translation cache empty."""
    lambda_ = emulator_client("lambda", deployed_local["endpoint"])
    variables = lambda_.get_function_configuration(FunctionName=PIPELINE)["Environment"]["Variables"]
    engines = {"TRANSLATION_ENGINE": "translate", "SPEECH_ENGINE": "polly"}
    lambda_.update_function_configuration(FunctionName=PIPELINE, Environment={"Variables": {**variables, **engines}})
    try:
        yield deployed_local["endpoint"]
    finally:
        lambda_.update_function_configuration(FunctionName=PIPELINE, Environment={"Variables": variables})


def session_counts(window: LogWindow, session: str) -> dict[tuple[str, str], Counter[str]]:
    """The pipeline's meter counts for the session's finals, per (service, language)."""
    logs = window.read().get(PIPELINE, "")
    counts: dict[tuple[str, str], Counter[str]] = {}
    for key, values in meter_counts(PIPELINE, logs.splitlines()).items():
        if key.session == session and key.segment_kind == "final":
            counts.setdefault((key.service, key.language), Counter()).update(values)
    return counts


def in_order(result: TalkResult, language: str) -> list[dict]:
    finals = finals_heard(result, language)
    order = [m["segmentId"] for m in result.finals]
    assert [m["segmentId"] for m in finals] == order, language
    return finals


def test_throttled_speech_and_translation_degrade_in_order_flagged_and_counted(aws_engines, talk):
    forget_translations(aws_engines)
    with RunningPlatform(aws_engines, quotas=LOW_QUOTAS) as running:
        window = LogWindow(running.stack.log_dir)
        started = time.monotonic()
        result = stream_talk(running.url, talk, wait_seconds=120, listeners=LISTENERS)
        elapsed = time.monotonic() - started
        refused = running.stack.quotas.refused()
    assert result.errors == []
    assert result.finals, "no final to check"
    counts = session_counts(window, result.session_id)
    seen: Counter[str] = Counter()
    for language in LISTENERS:
        finals = in_order(result, language)
        speech = Counter()
        for final in finals:
            assert final["text"].strip(), final
            assert final.get("speech") in ("neural", "standard", "skipped"), final
            # None silently missing: audio exactly when the speech was made.
            assert ("audio" in final) is (final["speech"] != "skipped"), final
            speech[final["speech"]] += 1
        untranslated = sum(1 for final in finals if not final["translated"])
        seen.update({f"{language} {k}": v for k, v in speech.items()})
        seen[f"{language} untranslated"] = untranslated
        polly = counts.get(("polly", language), Counter())
        assert polly["SpeechFallbacks"] == speech["standard"], (language, polly)  # every voice here has neural
        assert polly["SpeechSkipped"] == speech["skipped"], (language, polly)
        # Every untranslated final met at least one throttled call (a final's text is translated in blocks, and its
        # partials' blocks may be throttled too: a throttled call need not cost a final its translation).
        assert counts.get(("translate", language), Counter())["ThrottledCalls"] >= untranslated, language
    print(f"finals {len(result.finals)}; {dict(seen)}; refused at the edge {refused}; talk took {elapsed:.1f} s")
    # The quotas did bite: not every final could be neural, and Translate refused some calls.
    assert sum(v for k, v in seen.items() if k.endswith(("standard", "skipped"))) > 0
    assert refused["polly-neural"] > 0 and refused["translate"] > 0


def test_a_throttled_management_api_drops_a_message_for_that_listener_only_and_counts_it(deployed_local, talk):
    with RunningPlatform(deployed_local["endpoint"], quotas=LOW_REQUEST_RATE) as running:
        window = LogWindow(running.stack.log_dir)
        # Dropped finals never arrive: the wait ends after 30 s.
        result = stream_talk(running.url, talk, wait_seconds=30, listeners=LISTENERS)
        refused = running.stack.quotas.refused()["management-api"]
    dropped = sum(session_dropped(window, result.session_id).values())
    heard = {language: finals_heard(result, language) for language in LISTENERS}
    everything = {m["segmentId"] for finals in heard.values() for m in finals} | {m["segmentId"] for m in result.finals}
    missing = 0
    for language, finals in heard.items():
        # What arrives arrives in the speaker's order; what is missing was dropped, not delayed out of order.
        starts = [m["startTime"] for m in finals]
        assert starts == sorted(starts), language
        missing += len(everything) - len(finals)
    order = everything
    print(f"finals {len(order)}; finals missing at listeners {missing}; dropped (counted) {dropped}; refused {refused}")
    assert refused > 0
    assert dropped >= missing
    assert refused >= dropped  # each dropped message was refused on every attempt


def session_dropped(window: LogWindow, session: str) -> Counter[str]:
    """Messages the pipeline counted as dropped for the session, per language."""
    dropped: Counter[str] = Counter()
    for key, values in meter_counts(PIPELINE, window.read().get(PIPELINE, "").splitlines()).items():
        if key.session == session and key.service == "apigatewaymanagementapi":
            dropped[key.language] += int(values.get("MessagesDropped", 0))
    return dropped


def test_a_talk_refused_its_transcribe_stream_is_told_then_captioned_from_its_start_in_order(deployed_local, talk):
    with RunningPlatform(deployed_local["endpoint"], quotas=ONE_STREAM) as running:
        window = LogWindow(running.stack.log_dir)
        slots = running.stack.quotas.transcribe_streams
        other_talk = slots.acquire()
        assert other_talk is not None
        chunks_sent = 0
        released_at: list[tuple[int, float]] = []

        def count_chunk(sequence: int) -> None:
            nonlocal chunks_sent
            chunks_sent = sequence

        def other_talk_ends() -> None:
            # Once a retry after the backoff was refused too, as the talk's stream is opened again and again, and the
            # listeners were sent the captions held back (a shorter outage may end before the control queue's
            # consumer runs: listeners then get only the latest state): on its own thread, since a loaded machine may
            # make the retry only after the talk's last chunk.
            eventually(lambda: slots.refused >= 2, timeout=120, interval=0.1, what="two refusals of the stream")
            eventually(
                lambda: delay_broadcast(deployed_local["endpoint"]), timeout=60, interval=0.2, what="delay broadcast"
            )
            slots.release(other_talk)
            released_at.append((chunks_sent, time.monotonic()))

        releaser = threading.Thread(target=other_talk_ends, daemon=True)
        releaser.start()
        result = stream_talk(running.url, talk, wait_seconds=90, listeners=("es",), during=count_chunk)
        releaser.join(timeout=1)
        refused = slots.refused
        # The worker writes its counts when its invocation ends (the shard idle for 15 s after the talk).
        counted = throttled_streams(window, result.session_id, wait_seconds=60)
    assert released_at, "the talk's stream was never refused"
    assert [(e["code"], e["action"]) for e in result.errors] == [("TRANSCRIPTION_THROTTLED", "sendAudio")]
    # Nothing the speaker said while refused was lost: the captions start at the talk's start and cover it.
    assert result.finals and result.finals[0]["startTime"] < 2.0
    wer = word_error_rate(TALK, result.final_text)
    finals = in_order(result, "es")
    assert len(finals) == len(result.finals)
    chunk, freed = released_at[0]
    first_caption = min(at for at, m in result.heard["es"] if m.get("type") == "translation" and not m["isPartial"])
    print(
        f"refused {refused} (counted {counted:.0f}), the quota freed after chunk {chunk}; first final caption "
        f"{first_caption - freed:.2f} s later; finals {len(result.finals)}, word error rate {wer:.3f}"
    )
    assert counted == refused
    assert wer <= 0.15
    # The listener was shown the captions held back before they came, and that they flow again.
    states = [(at, m["broadcastState"]) for at, m in result.heard["es"] if m.get("type") == "broadcastStateChanged"]
    delayed = [at for at, state in states if state.get("captionsDelayed")]
    assert delayed and delayed[0] < first_caption, f"the listener was not shown its captions held back: {states}"
    assert "captionsDelayed" not in states[-1][1], f"the listener was left showing captions held back: {states}"


def delay_broadcast(endpoint: str) -> bool:
    """A live session shown captions held back, in a broadcast that carried its latest state (the control claim)."""
    table = boto3.resource("dynamodb", **emulator_options(endpoint)).Table("speech-broadcast-local-sessions")
    return any(
        item.get("captionsDelayed") and item.get("controlSentVersion") == item.get("controlVersion")
        for item in table.scan()["Items"]
        if item.get("state") == SessionState.ACTIVE
    )


def throttled_streams(window: LogWindow, session: str, wait_seconds: float) -> float:
    """The worker's count of the session's refused streams (the cost meter's ``ThrottledCalls``), once written."""

    def counted() -> float:
        return sum(
            values.get("ThrottledCalls", 0)
            for key, values in meter_counts(WORKER, window.read().get(WORKER, "").splitlines()).items()
            if (key.service, key.session) == ("transcribe", session)
        )

    return eventually(counted, timeout=wait_seconds, interval=1, what="the worker's count of refused streams")
