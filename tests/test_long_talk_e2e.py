"""A talk longer than a worker invocation, through the deployed local platform (issue #14, finding 2).

The transcription worker's Lambda timeout is set to 25 s and its event source mapping's batch to
10 records (2 s of audio) on the run's deployment, through the Lambda API as an operator would, and
set back afterwards. So a talk of two and a half minutes crosses an invocation boundary every 15 s
or so and each invocation reads far more records itself than the mapping delivers to it: the
proportions of a real 900 s invocation reading a busy shard after a 500-record batch.

At every boundary the next invocation must go on from where the previous one's reader stopped:
it re-reads at most the records the mapping delivers to it (one batch), never the backlog
between the mapping's checkpoint and the previous reader's position. The worker's own metrics
(EMF lines in its log, as CloudWatch would get them) count what it re-read. And through all the
boundaries every final reaches the Spanish listener, in the speaker's order, once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from broadcast_tools.speech import continuous_talk, synthesize
from tests.support.deployment import emulator_client
from tests.support.running_platform import RunningPlatform
from tests.support.talk import TalkResult, stream_talk

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(4)]

WORKER_TIMEOUT_SECONDS = 25
BATCH_SIZE = 10
TALK_SECONDS = 150
WORKER = "speech-broadcast-local-transcription-worker"
CHUNK_MS = 200
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


def listener_finals(result: TalkResult) -> list[dict]:
    return [m for _, m in result.heard.get("es", []) if m.get("type") == "translation" and not m["isPartial"]]


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
def long_talk(short_worker, tmp_path_factory) -> tuple[TalkResult, list[Invocation], float, float]:
    audio, _ = continuous_talk(TALK_SECONDS)
    log_dir = tmp_path_factory.mktemp("logs")
    with RunningPlatform(short_worker["endpoint"], log_dir=log_dir) as stack:
        # A sentence first, so the functions' cold starts are behind us.
        stream_talk(stack.url, synthesize("Good morning everyone."), listeners=("es",), wait_seconds=60)
        result = stream_talk(stack.url, audio, chunk_ms=CHUNK_MS, pace=1.0, wait_seconds=120, listeners=("es",))
    # The talk's times are time.monotonic(); the log's are the wall clock.
    return result, worker_invocations(log_dir), time.time() - time.monotonic(), len(audio) / 32000


def test_the_talk_crosses_several_worker_invocations(long_talk):
    _, invocations, _, _ = long_talk
    assert len(invocations) >= 5, [i.delivered for i in invocations]


def test_each_invocation_re_reads_at_most_the_batch_it_was_delivered(long_talk):
    result, invocations, clock, _ = long_talk
    captions = [at + clock for at, m in result.heard["es"] if m.get("type") == "translation"]
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
    result, _, _, seconds = long_talk
    spoken = [m["segmentId"] for m in result.finals]
    heard = [m["segmentId"] for m in listener_finals(result)]
    assert len(spoken) >= 10 and len(set(spoken)) == len(spoken)
    assert heard == spoken
    assert max(m["endTime"] for m in result.finals) >= seconds - 1.5
