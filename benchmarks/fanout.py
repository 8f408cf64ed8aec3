"""Fan-out at audience size: the real Notifier against a Management API stand-in with AWS-like behaviour.

The stand-in (:mod:`benchmarks.management_standin`): per-call latency log-normal with
median 25 ms and p99 150 ms, an account-wide token bucket of 10,000 requests/s (burst
5,000) answering 429, and 1 % of connections gone (410).

One final in 3 languages (a caption with 8 KB of speech) goes to 500 and 5,000
listeners:
- **one invocation**: the three languages concurrently, each through ``Notifier.fan_out``
  (bounded pool, ``FANOUT_CONCURRENCY``), as the pipeline does in one invocation;
- **split**: the audience cut into slices of ``SLICE`` listeners, each slice delivered
  by its own process with its own client, as concurrent fan-out invocations would on
  AWS (docs/ARCHITECTURE.md, "Fan-out at scale").

Reported: time to the last listener (p50, p95 over the repetitions), Management API
calls per listener, 429s, and the CPU each call costs the sender (what bounds one
invocation). Then 5,000 listeners with partials flowing at the forwarder's budgeted rate
and a final every 2 s for 10 s: 429s.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.stats import percentile
from tests.support.management_standin import Behaviour, StandIn
from translation_pipeline.settings import TranslationSettings

AUDIENCES = (500, 5000)
LANGUAGES = ("es", "fr", "de")
#: listeners per fan-out invocation, as the pipeline splits them (FANOUT_SLICE_SIZE)
SLICE = TranslationSettings.model_fields["fanout_slice_size"].default
CONCURRENCY_PER_SLICE = 32
REPEATS = {500: 7, 5000: 5}
SPEECH_BYTES = 8 * 1024

_notifier: Any = None


def _init(endpoint: str, concurrency: int) -> None:
    global _notifier
    from botocore.config import Config

    from broadcast_shared import aws
    from broadcast_shared.notifier import Notifier

    client = aws.client(
        "apigatewaymanagementapi", endpoint_url=endpoint, config=Config(max_pool_connections=concurrency)
    )
    _notifier = Notifier(client, concurrency=concurrency)


def _message(language: str, partial: bool = False) -> Any:
    import base64

    from broadcast_shared.messages.outbound import SpeechAudio, Translation

    audio = None
    if not partial:
        audio = SpeechAudio(
            format="audio/mpeg", data=base64.b64encode(bytes(SPEECH_BYTES)).decode(), chunk_index=0, final=True
        )
    return Translation(
        session_id="bench-session-001",
        segment_id="s0-u1",
        language=language,
        text="El equipo ha trabajado muy duro y tenemos muchos buenos resultados",
        is_partial=partial,
        start_time=1.0,
        audio=audio,
    )


def _deliver(job: tuple[list[str], str, bool, float]) -> tuple[int, float]:
    """One fan-out invocation: its slice of one language's listeners. Returns (calls made, CPU seconds)."""
    ids, language, partial, start_at = job
    message = _message(language, partial)
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    cpu = time.process_time()
    result = _notifier.fan_out(ids, message)
    return result.delivered + len(result.gone) + len(result.failed), time.process_time() - cpu


def _audience(size: int) -> dict[str, list[str]]:
    return {
        language: [f"{language}-{i:05d}" for i in range(i0, size, len(LANGUAGES))]
        for i0, language in enumerate(LANGUAGES)
    }


def _jobs(audience: dict[str, list[str]], split: bool, partial: bool, start_at: float) -> list:
    jobs = []
    for language, ids in audience.items():
        step = SLICE if split else len(ids)
        jobs += [(ids[i : i + step], language, partial, start_at) for i in range(0, len(ids), step)]
    return jobs


def _time_to_last(standin: StandIn, audience: dict[str, list[str]], start_at: float) -> tuple[float, dict]:
    report = standin.report()
    expected = [c for ids in audience.values() for c in ids if not standin.behaviour.is_gone(c)]
    arrived = [report["delivered"][c] for c in expected if c in report["delivered"]]
    missing = len(expected) - len(arrived)
    return (max(arrived) - start_at) * 1000 if arrived else float("nan"), {**report, "missing": missing}


def run() -> None:
    standin = StandIn(Behaviour()).start()
    context = multiprocessing.get_context("spawn")
    workers = len(_jobs(_audience(max(AUDIENCES)), True, False, 0.0))
    try:
        with context.Pool(workers, initializer=_init, initargs=(standin.endpoint, CONCURRENCY_PER_SLICE)) as pool:
            pool.map(_deliver, [([f"warm-{i}-{j}" for j in range(20)], "es", True, 0.0) for i in range(workers)])
            print("== fan-out of one final in 3 languages, real Notifier vs the Management API stand-in")
            print(
                f"   (latency median {standin.behaviour.median_ms} ms, p99 {standin.behaviour.p99_ms} ms;"
                f" {standin.behaviour.rate_per_second:.0f} req/s, burst {standin.behaviour.burst:.0f}; "
                f"{standin.behaviour.gone_share:.0%} gone; machine: {os.cpu_count()} cores, shared)"
            )
            for size in AUDIENCES:
                audience = _audience(size)
                for split in (False, True):
                    lasts, calls, throttled, missing, cpu = [], 0, 0, 0, 0.0
                    for _ in range(REPEATS[size] if split else 2):
                        standin.reset()
                        start_at = time.time() + 0.3
                        jobs = _jobs(audience, split, False, start_at)
                        if split:
                            results = pool.map(_deliver, jobs)
                        else:
                            _init(standin.endpoint, int(os.environ.get("FANOUT_CONCURRENCY", "32")))
                            with ThreadPoolExecutor(len(jobs)) as languages:
                                results = list(languages.map(_deliver, jobs))
                        last, report = _time_to_last(standin, audience, start_at)
                        lasts.append(last)
                        calls += report["calls"]
                        throttled += report["throttled"]
                        missing += report["missing"]
                        cpu += sum(c for _, c in results)
                    runs = len(lasts)
                    label = f"split, {len(_jobs(audience, True, False, 0))} x <= {SLICE}" if split else "one invocation"
                    print(
                        f"  {size:5d} listeners  {label:22s} last listener p50 {statistics.median(lasts):7.0f} ms"
                        f"  p95 {percentile(lasts, 0.95):7.0f} ms  calls/listener {calls / runs / size:.2f}"
                        f"  429s {throttled / runs:.0f}  undelivered {missing / runs:.0f}"
                        f"  CPU/call {cpu / calls * 1000:.2f} ms"
                    )
            _one_slice(standin, pool)
            _partials_flowing(standin, pool)
    finally:
        standin.stop()


def _partials_flowing(standin: StandIn, pool: Any) -> None:
    """5,000 listeners for 10 s: a final every 2 s, partials at the forwarder's interval for that audience."""
    from audio_transcription.forwarder import ForwardingLimits, SegmentForwarder

    audience = _audience(5000)
    interval = SegmentForwarder(None, "", None, ForwardingLimits()).partial_interval(5000)  # type: ignore[arg-type]
    standin.reset()
    began = time.time() + 0.5
    schedule = [(began + t, False) for t in (0.0, 2.0, 4.0, 6.0, 8.0)]
    t = interval / 2
    while t < 10.0:
        schedule.append((began + t, True))
        t += interval
    jobs = [job for at, partial in sorted(schedule) for job in _jobs(audience, True, partial, at)]
    pool.map(_deliver, jobs, chunksize=1)
    report = standin.report()
    seconds = max(report["delivered"].values()) - began if report["delivered"] else 0.0
    print(
        f"  5000 listeners, 10 s with 5 finals and partials every {interval:.1f} s: {report['calls']} calls"
        f" ({report['calls'] / max(seconds, 1e-9):.0f}/s), 429s {report['throttled']}"
    )


def _one_slice(standin: StandIn, pool: Any) -> None:
    """One slice alone: what each of the concurrent invocations does when it has a vCPU to itself, as on AWS
    (here the slices of a 5,000-listener final share this machine's cores, so they queue for CPU)."""
    ids = _audience(SLICE * len(LANGUAGES))["es"]
    lasts = []
    for _ in range(7):
        standin.reset()
        start_at = time.time() + 0.2
        pool.map(_deliver, [(ids, "es", False, start_at)])
        lasts.append(_time_to_last(standin, {"es": ids}, start_at)[0])
    print(
        f"  one slice of {len(ids)} alone (each invocation on its own vCPU): last listener"
        f" p50 {statistics.median(lasts):.0f} ms  p95 {percentile(lasts, 0.95):.0f} ms"
    )
