"""A long talk by a speaker who hardly pauses, longer than a worker invocation, through the deployed local platform
(issues #14 and #16).

The transcription worker's Lambda timeout is set to 25 s and its event source mapping's batch to
10 records (2 s of audio) on the run's deployment, through the Lambda API as an operator would, and
set back afterwards. So a talk of two minutes crosses an invocation boundary every 15 s
or so and each invocation reads far more records itself than the mapping delivers to it: the
proportions of a real 900 s invocation reading a busy shard after a 500-record batch.

At every boundary the next invocation must go on from where the previous one's reader stopped:
it re-reads at most the records the mapping delivers to it (one batch), never the backlog
between the mapping's checkpoint and the previous reader's position. The worker's own metrics
(EMF lines in its log, as CloudWatch would get them) count what it re-read. And through all the
boundaries every final reaches the Spanish listener, in the speaker's order, once.

The talk is the Piper test talk over and over, 0.2 s after each sentence and between copies. The platform bounds
segments itself (8 s of audio, 400 characters), so while the talk goes on, across the boundaries too:
- a final reaches the listener for at least every 15 s of speech (its segment's times; arrival times are
  printed);
- no final is longer than 400 characters;
- the listener's captions update while the speaker talks: every segment longer than 4 s of audio shows partial
  captions before its final (how long the listener waited between updates is printed: on a quiet machine the
  longest wait is under 2 s; it is a speed figure, so `make bench` owns it, and a two-process CI run on two cores
  once stretched it to 3 s);
- the finals' words cover the speech with nothing duplicated or lost at a boundary (word error rate against the
  script, which counts a repeated or a lost word alike; pocketsphinx alone measures 0.05-0.08 on this speech).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from broadcast_tools.speech import continuous_talk, synthesize, word_error_rate
from tests.support.deployment import emulator_client
from tests.support.running_platform import RunningPlatform
from tests.support.talk import TalkResult, stream_talk

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(3)]

WORKER_TIMEOUT_SECONDS = 25
BATCH_SIZE = 10
TALK_SECONDS = 120
WORKER = "speech-broadcast-local-transcription-worker"
CHUNK_MS = 200
MAX_FINAL_GAP_SECONDS = 15
MAX_FINAL_CHARACTERS = 400
MAX_WORD_ERROR_RATE = 0.15
#: metrics the worker counts a record it had already read (before this change: per record, by the
#: session's checkpoint; after: per invocation, records of the delivered batch behind the shard's position)
RE_READ_METRICS = ("AudioRecordsAlreadyRead", "RecordsBehindPosition")


@dataclass
class Invocation:
    started: float
    delivered: int
    re_read: int = 0
    #: the worst of the reader's published lag (AudioReadBehindLatest), ms; printed, not asserted
    read_lag_ms: float = 0.0


def worker_invocations(log_dir: Path) -> list[Invocation]:
    """Each worker invocation in the worker's log: when it started, the records delivered, the records re-read."""
    invocations: list[Invocation] = []
    for path in sorted(log_dir.glob("*transcription-worker.log")):
        for line in path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict):
                continue
            if entry.get("message") == "audio batch":
                started = datetime.strptime(entry["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z").timestamp()
                invocations.append(Invocation(started, int(entry.get("records", 0))))
            elif "_aws" in entry and invocations:
                for name in RE_READ_METRICS:
                    value = entry.get(name, 0)
                    invocations[-1].re_read += int(sum(value) if isinstance(value, list) else value)
                lag = entry.get("AudioReadBehindLatest", 0)
                invocations[-1].read_lag_ms = max(
                    invocations[-1].read_lag_ms, *(lag if isinstance(lag, list) else [lag])
                )
    return invocations


def listener_finals(result: TalkResult) -> list[tuple[float, dict]]:
    return [(at, m) for at, m in result.heard.get("es", []) if m.get("type") == "translation" and not m["isPartial"]]


@dataclass
class LongTalk:
    result: TalkResult
    script: str
    invocations: list[Invocation]
    #: the wall clock less time.monotonic(): the talk's times are the one, the log's the other
    clock: float
    seconds: float

    def during(self) -> tuple[float, float]:
        """When the first chunk was sent and when the last chunk of speech was."""
        sent = self.result.sent_at
        return sent[0], sent[int(self.seconds * 1000 // CHUNK_MS) - 1]


@pytest.fixture(scope="module")
def short_worker(deployed_local) -> Iterator[dict]:
    """The run's deployment with the worker as Terraform's ``transcription_worker`` variable would make it for
    this timeout and batch (``DEADLINE_MARGIN_SECONDS`` as main.tf derives it); set back afterwards."""
    lambda_ = emulator_client("lambda", deployed_local["endpoint"])
    deployed = lambda_.get_function_configuration(FunctionName=WORKER)
    variables = deployed["Environment"]["Variables"]
    (mapping,) = lambda_.list_event_source_mappings(FunctionName=WORKER)["EventSourceMappings"]
    margin = min(30, max(10, WORKER_TIMEOUT_SECONDS // 3))
    lambda_.update_function_configuration(
        FunctionName=WORKER,
        Timeout=WORKER_TIMEOUT_SECONDS,
        Environment={"Variables": {**variables, "DEADLINE_MARGIN_SECONDS": str(margin)}},
    )
    lambda_.update_event_source_mapping(UUID=mapping["UUID"], BatchSize=BATCH_SIZE)
    try:
        yield deployed_local
    finally:
        lambda_.update_function_configuration(
            FunctionName=WORKER, Timeout=deployed["Timeout"], Environment={"Variables": variables}
        )
        lambda_.update_event_source_mapping(UUID=mapping["UUID"], BatchSize=mapping["BatchSize"])


@pytest.fixture(scope="module")
def long_talk(short_worker, tmp_path_factory) -> LongTalk:
    audio, script = continuous_talk(TALK_SECONDS)
    log_dir = tmp_path_factory.mktemp("logs")
    with RunningPlatform(short_worker["endpoint"], log_dir=log_dir) as stack:
        # A sentence first, so the functions' cold starts (seconds on a loaded machine) are behind us: the figures
        # are about a long continuous talk, not start-up.
        stream_talk(stack.url, synthesize("Good morning everyone."), listeners=("es",), wait_seconds=60)
        result = stream_talk(stack.url, audio, chunk_ms=CHUNK_MS, pace=1.0, wait_seconds=120, listeners=("es",))
    return LongTalk(result, script, worker_invocations(log_dir), time.time() - time.monotonic(), len(audio) / 32000)


def test_the_talk_crosses_several_worker_invocations(long_talk):
    assert len(long_talk.invocations) >= 5, [i.delivered for i in long_talk.invocations]


def test_each_invocation_re_reads_at_most_the_batch_it_was_delivered(long_talk):
    invocations = long_talk.invocations
    captions = [at + long_talk.clock for at, m in long_talk.result.heard["es"] if m.get("type") == "translation"]
    for number, invocation in enumerate(invocations):
        around = [at for at in captions if invocation.started - 10 <= at <= invocation.started + 10]
        gap = max((b - a for a, b in zip(around, around[1:], strict=False)), default=0.0)
        print(
            f"invocation {number}: delivered {invocation.delivered}, re-read {invocation.re_read}, "
            f"reader lag at worst {invocation.read_lag_ms / 1000:.1f} s, "
            f"longest caption gap within 10 s of its start {gap:.1f} s"
        )
    assert all(invocation.re_read <= BATCH_SIZE for invocation in invocations), [i.re_read for i in invocations]


def test_every_final_reaches_the_listener_once_in_the_speakers_order_across_the_boundaries(long_talk):
    result = long_talk.result
    spoken = [m["segmentId"] for m in result.finals]
    heard = [m["segmentId"] for _, m in listener_finals(result)]
    assert len(spoken) >= 10 and len(set(spoken)) == len(spoken)
    assert heard == spoken
    assert max(m["endTime"] for m in result.finals) >= long_talk.seconds - 1.5


def test_listener_gets_a_final_for_at_least_every_15_seconds_of_speech(long_talk):
    """The platform's own bound, in the talk's time (the finals' ``startTime``/``endTime``): how late each final
    arrives is the machine's (printed here; `make bench` measures it) and a two-process CI run on two cores once
    delayed one to 15.4 s after the one before while the segments themselves stayed within 9 s."""
    started, ended = long_talk.during()
    finals = [(at, m) for at, m in listener_finals(long_talk.result) if at <= ended]
    arrivals = [at for at, _ in finals]
    gaps = [b - a for a, b in zip([started, *arrivals], [*arrivals, ended], strict=True)]
    print(f"finals during the talk: {len(arrivals)}, arrival gaps between them: {[round(gap, 1) for gap in gaps]}")
    ends = [float(m["endTime"]) for _, m in finals]
    spoken = [b - a for a, b in zip([0.0, *ends], ends, strict=False)]
    print(f"speech between their ends: {[round(gap, 1) for gap in spoken]}")
    assert len(arrivals) >= long_talk.seconds // MAX_FINAL_GAP_SECONDS
    assert max(spoken) <= MAX_FINAL_GAP_SECONDS


def test_no_final_is_longer_than_400_characters(long_talk):
    result = long_talk.result
    finals = [m["text"] for m in result.finals] + [m["text"] for _, m in listener_finals(result)]
    assert finals and max(len(text) for text in finals) <= MAX_FINAL_CHARACTERS


def test_listener_captions_update_while_the_speaker_talks(long_talk):
    _, ended = long_talk.during()
    captions = [(at, m) for at, m in long_talk.result.heard["es"] if m.get("type") == "translation" and at <= ended]
    arrivals = [at for at, _ in captions]
    stall = max(b - a for a, b in zip(arrivals, [*arrivals[1:], ended], strict=True))
    print(f"captions during the talk: {len(captions)}, longest wait between updates {stall:.1f} s")
    with_partials = {m["segmentId"] for _, m in captions if m["isPartial"]}
    long_segments = [
        m["segmentId"] for _, m in captions if not m["isPartial"] and float(m["endTime"]) - float(m["startTime"]) > 4
    ]
    assert long_segments
    # A lane drops a partial that a newer segment overtook before it was sent (the forwarder's lanes): a segment the
    # recognizer finished while its lane still sent the one before (a loaded machine, a resumed stream catching up)
    # reaches the listener as its final alone. One in ten may; a lane that sent no partials fails.
    without = [segment for segment in long_segments if segment not in with_partials]
    print(f"finals of more than 4 s: {len(long_segments)}, without a partial before them: {without}")
    assert len(without) <= len(long_segments) // 10


def test_finals_cover_the_speech_once_each_in_order(long_talk):
    result = long_talk.result
    finals = result.finals
    assert [m["startTime"] for m in finals] == sorted(m["startTime"] for m in finals)
    wer = word_error_rate(long_talk.script, result.final_text)
    print(f"{len(finals)} finals, word error rate {wer:.3f}")
    assert wer <= MAX_WORD_ERROR_RATE
