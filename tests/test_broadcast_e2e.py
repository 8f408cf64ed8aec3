"""A recorded English talk (a Piper voice) through the deployed local platform, with
listeners in Spanish, French and German; the French listener only listens (``captions: false``).

- The speaker sees partial and final transcripts; the finals match the script.
  Measured word error rate with pocketsphinx: 0.00-0.08 (docs/ARCHITECTURE.md); the
  assertion (0.15) leaves room for timing differences between machines.
- Each listener gets captions in its language, partial then final, never going
  backwards, and every final carries its speech (apertium, espeak-ng). German, which
  the local apertium pairs cannot serve, arrives untranslated and says so.
- A language whose listeners all listen only gets finals and no partial: the worker invokes no partial
  for it and the cost meter counts no Translate characters of partials in it.
"""

from __future__ import annotations

import base64
from collections import Counter
from typing import NamedTuple

import pytest

from broadcast_tools.speech import TALK, synthesize, word_error_rate
from broadcast_tools.waiting import wait_for
from local_runtime.metering import LogWindow, meter_counts
from tests.support.deployment import forget_translations
from tests.support.running_platform import RunningPlatform
from tests.support.talk import TalkResult, stream_talk

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(0.75)]

MAX_WORD_ERROR_RATE = 0.15


LISTENERS = ("es", "fr", "de")
#: listeners who only listen: finals with their speech, no partial
SPEECH_ONLY = ("fr",)
#: how long the worker may take to end its invocation (its shard idle 15 s) and write its meter counts
WORKER_REPORT_SECONDS = 90


class Run(NamedTuple):
    result: TalkResult
    #: the session's meter counts by (function, service, language, segment kind)
    meter: dict[tuple[str, str, str, str], Counter[str]]


@pytest.fixture(scope="module")
def run(deployed_local) -> Run:
    talk = synthesize(TALK)
    # The meter's Translate counts are this talk's only when no earlier talk (another test file's, on this test
    # process's emulator) left the same sentences cached.
    forget_translations(deployed_local["endpoint"])
    with RunningPlatform(deployed_local["endpoint"]) as stack:
        window = LogWindow(stack.stack.log_dir)
        # Real time, as a speaker talks; the wait is generous for a loaded CI machine and ends as soon
        # as every final has reached every listener.
        result = stream_talk(
            stack.url,
            talk,
            chunk_ms=200,
            pace=1.0,
            wait_seconds=150,
            listeners=LISTENERS,
            speech_only=SPEECH_ONLY,
        )
        worker = stack.stack.deployment.api_name.removesuffix("websocket") + "transcription-worker"
        wait_for(lambda: not stack.stack.pool.in_flight(worker), WORKER_REPORT_SECONDS, 1)
        logs = window.read()
    meter: dict[tuple[str, str, str, str], Counter[str]] = {}
    for function, text in logs.items():
        for key, values in meter_counts(function, text.splitlines()).items():
            if key.session == result.session_id:
                name = function.removeprefix(worker.removesuffix("transcription-worker"))
                meter.setdefault((name, key.service, key.language, key.segment_kind), Counter()).update(values)
    return Run(result, meter)


@pytest.fixture(scope="module")
def broadcast(run) -> TalkResult:
    return run.result


def by_segment(messages: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for message in messages:
        grouped.setdefault(message["segmentId"], []).append(message)
    return grouped


def test_speaker_sees_partials_and_accurate_finals(broadcast):
    assert broadcast.errors == []
    assert broadcast.partials, "no partial transcripts"
    for messages in by_segment([m for _, m in broadcast.transcripts]).values():
        texts = [m["text"] for m in messages if m["isPartial"]]
        assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:], strict=False))
        assert [m["isPartial"] for m in messages].count(False) <= 1
    wer = word_error_rate(TALK, broadcast.final_text)
    print(f"word error rate {wer:.3f}: {broadcast.final_text!r}")
    assert wer <= MAX_WORD_ERROR_RATE


@pytest.mark.parametrize(("language", "team"), [("es", "equipo"), ("fr", "équipe")])
def test_listeners_get_translated_captions_that_never_go_backwards_with_speech(broadcast, language, team):
    captions = [m for _, m in broadcast.heard[language] if m["type"] == "translation"]
    finals = [m for m in captions if not m["isPartial"]]
    assert finals
    assert all(m["translated"] and m["language"] == language for m in captions)
    # "The team has worked very hard", mid-talk, as apertium says it.
    assert team in " ".join(m["text"] for m in finals).lower()
    for messages in by_segment(captions).values():
        flags = [m["isPartial"] for m in messages]
        assert flags.count(False) == 1 and flags[-1] is False  # the final comes last, once
    for final in finals:
        assert final["audio"]["format"] == "audio/ogg"
        assert base64.b64decode(final["audio"]["data"]).startswith(b"OggS")
    assert len(finals) == len(broadcast.finals)


def test_listeners_get_partial_captions_without_speech(broadcast):
    # A partial that reaches the pipeline after its final is dropped (captions never go backwards),
    # so on a loaded machine some segments have none; the talk as a whole has them.
    partials = [m for language in LISTENERS for _, m in broadcast.heard[language] if m.get("isPartial")]
    assert partials and all(m["type"] == "translation" and "audio" not in m for m in partials)


def test_a_language_whose_listeners_only_listen_gets_no_partial_work_and_the_meter_counts_none(run):
    heard = {
        language: [m for _, m in run.result.heard[language] if m["type"] == "translation"] for language in LISTENERS
    }
    assert heard["fr"] and not any(m["isPartial"] for m in heard["fr"])
    assert any(m["isPartial"] for m in heard["es"])

    def count(function: str, service: str, language: str, kind: str, metric: str) -> float:
        return run.meter.get((function, service, language, kind), Counter())[metric]

    # The worker invoked the pipeline for es's partials and fr's finals, never for a partial in fr...
    assert count("transcription-worker", "lambda", "es", "partial", "AwsCalls") > 0
    assert count("transcription-worker", "lambda", "fr", "final", "AwsCalls") > 0
    assert count("transcription-worker", "lambda", "fr", "partial", "AwsCalls") == 0
    # ...so nothing of a partial was translated into fr, while es's partials were.
    assert count("translate-segment", "translate", "es", "partial", "BilledCharacters") > 0
    assert count("translate-segment", "translate", "fr", "partial", "BilledCharacters") == 0
    assert count("translate-segment", "translate", "fr", "final", "BilledCharacters") > 0


def test_a_language_the_local_engine_cannot_translate_arrives_untranslated_and_says_so(broadcast):
    finals = [m for _, m in broadcast.heard["de"] if m["type"] == "translation" and not m["isPartial"]]
    assert finals and all(not m["translated"] for m in finals)
    # Compare segment by segment (the order has its own test).
    assert {m["segmentId"]: m["text"] for m in finals} == {m["segmentId"]: m["text"] for m in broadcast.finals}
    assert all("audio" in m for m in finals)


def test_every_listener_gets_every_final_in_the_speakers_order(broadcast):
    assert TALK.count(". ") + 1 >= 6  # a talk of six sentences
    order = [m["segmentId"] for m in broadcast.finals]
    assert len(order) == len(set(order))
    for language in LISTENERS:
        captions = [m for _, m in broadcast.heard[language] if m["type"] == "translation"]
        finals = list(dict.fromkeys(m["segmentId"] for m in captions if not m["isPartial"]))  # duplicates dropped
        inversions = sum(1 for a, b in zip(finals, finals[1:], strict=False) if order.index(a) > order.index(b))
        assert (inversions, finals) == (0, order), language
        # A partial never arrives after its own final or a later segment's final.
        newest_final = -1
        for message in captions:
            position = order.index(message["segmentId"]) if message["segmentId"] in order else len(order)
            if message["isPartial"]:
                assert position > newest_final, (language, message["segmentId"])
            else:
                newest_final = max(newest_final, position)
