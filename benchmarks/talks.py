"""Many talks at once through the deployed local platform: what an event's load does to delivery and latency.

Loads of 1, 4, 12 and 24 concurrent talks and of the deployment's declared capacity (none refused: what the
admitted talks of the larger loads compare with), started 0.7 s apart, each to 20 listeners in 5 languages, with
the scripted recogniser (``audio.transcription_engine = "scripted"``: a timed transcript replayed at next to no
CPU, so the figures measure the platform, not pocketsphinx); then the first four talks of a fresh platform with
pocketsphinx, the ``make dev`` recogniser, each to es, fr and a second es listener, the talk's path warmed first
as ``make dev`` warms it once it serves; then the pipeline on Polly and Translate (through the local stand-ins), one
talk at AWS's default quotas and again with Polly's lowered so that it asks as much more than its neural quota as
issue #21's 12 talks x 5 languages ask of 8 TPS. Per load: finals delivered / expected per listener,
inversions, speech end → final caption p50/p95, the speech fallbacks and skips the finals report (their
``speech`` field), throttles per service, and the sessions ``createSession`` refused (``CAPACITY_REACHED``).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from audio_transcription.engines.scripted import finals_within, timed_script
from benchmarks.stats import percentile
from broadcast_shared.capacity import CapacityPlan, derive
from broadcast_tools.speech import TALK, synthesize
from local_runtime.metering import read_emf
from local_runtime.quotas import EmulatedQuotas
from tests.support.deployment import capacity_plan
from tests.support.running_platform import RunningPlatform, serving_applied_platform
from tests.support.talks import TalkRecord, run_talks

LOADS = (1, 4, 12, 24)
LANGUAGES = ("es", "fr", "de", "it", "pt")
LISTENERS_PER_TALK = 20
#: the eight-sentence talk's listeners in issue #21's four-talk run
POCKETSPHINX_LISTENERS = ("es", "fr", "es")
POCKETSPHINX_TALKS = 4
#: the local environment as deployed, with the scripted recogniser (the rest of `audio` as local.tfvars has it)
SCRIPTED = {"audio": '{transcription_engine="scripted",stream_on_demand=false,stream_shard_count=4}'}
#: the pipeline on its AWS engines, Amazon Polly and Translate, through the local runtime's stand-ins (which answer
#: ``ThrottlingException`` past the account's emulated quotas), the scripted recogniser as above
AWS_ENGINES = {**SCRIPTED, "translation": '{translation_engine="translate",speech_engine="polly"}'}
#: issue #21's 12 talks x 5 languages x 11 finals a minute: 11 neural speech calls a second against Polly's 8 TPS
ISSUE_SPEECH_DEMAND_TPS = 12 * 5 * 11 / 60
POLLY_NEURAL_TPS = 8.0
#: AWS's standard-voice quota as a multiple of the neural one (80 TPS); the bursts stay AWS's (a final asks one call
#: per language at once, however many talks share the quota)
POLLY_STANDARD_RATIO = 10.0
#: rounds of the script in the speech quota's talk (109 s, 24 finals)
QUOTA_ROUNDS = 4
#: the speech quota's talk under and over the quota, alternately, this many times each (pooled: one run's p95 on
#: this 2-core machine varies by up to a third from the next's)
QUOTA_PAIRS = 2
#: the unmeasured talk that starts the functions' environments before the loads (one sentence of the script)
WARM_UP_SECONDS = 4
#: what the metric names of a throttled call hold (EMF lines in the function logs)
THROTTLE = re.compile(r"throttl", re.IGNORECASE)


@dataclass
class LoadFigures:
    talks: int
    records: list[TalkRecord]
    expected: int
    throttles: Counter[str]
    seconds: float

    def latencies_ms(self) -> list[float]:
        """Speech end → final caption of every final every admitted talk's listeners received."""
        return [ms for r in self.records if r.refused is None for ms in r.caption_latencies_ms()]

    def print(self) -> None:
        admitted = [r for r in self.records if r.refused is None]
        refused = Counter(
            str((r.refused or {}).get("code") or (r.refused or {}).get("message")) for r in self.records if r.refused
        )
        listeners = [(r, listener) for r in admitted for listener in r.listeners]
        delivered = sum(len({m["segmentId"] for _, m in listener.finals}) for _, listener in listeners)
        wanted = sum(max(self.expected, len(r.finals)) for r, _ in listeners)
        short = sum(1 for r, listener in listeners if len(listener.finals) < max(self.expected, len(r.finals)))
        inversions = sum(r.inversions(listener) for r, listener in listeners)
        latencies = self.latencies_ms()
        speech = Counter(m.get("speech") for _, listener in listeners for _, m in listener.finals)
        gateway = sum(
            1
            for r in admitted
            for error in (*r.speaker_errors, *(e for listener in r.listeners for e in listener.errors))
            if error.get("message") == "Too Many Requests"
        )
        throttles = Counter(self.throttles)
        if gateway:
            throttles["API Gateway (Too Many Requests)"] += gateway
        figures = (
            f"  {self.talks:>2} talks  finals delivered {delivered}/{wanted} to {len(listeners)} listeners"
            f" ({short} short)  inversions {inversions}"
        )
        if latencies:
            figures += f"  caption p50 {percentile(latencies, 0.5):6.0f} ms  p95 {percentile(latencies, 0.95):6.0f} ms"
        print(figures)
        rejoins = sum(len(listener.join_failures) for _, listener in listeners)
        unjoined = sum(1 for _, listener in listeners if not listener.joined)
        print(
            f"            joins failed {rejoins} (listeners never joined {unjoined})"
            f"  speech fallbacks {speech['standard']}  skips {speech['skipped']}"
            f"  throttles {_listed(throttles)}  refused sessions {_listed(refused) if refused else 0}"
            f"  ({self.seconds:.0f} s)"
        )


def _listed(counts: Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "none"


def throttles_in(log_dir: Path) -> Counter[str]:
    """The functions' EMF metrics about throttled calls (a metric name holding "throttl"), summed per metric."""
    counts: Counter[str] = Counter()
    for log in log_dir.glob("*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if THROTTLE.search(line) and (emf := read_emf(line)):
                counts.update({name: int(value) for name, value in emf.values.items() if THROTTLE.search(name)})
    return counts


def measure(
    url: str, log_dir: Path, talks: int, pcm: bytes, languages: Sequence[str], expected: int, wait_seconds: float
) -> LoadFigures:
    before = throttles_in(log_dir)
    started = time.monotonic()
    records = asyncio.run(run_talks(url, pcm, talks, languages, expected, wait_seconds=wait_seconds))
    return LoadFigures(talks, records, expected, throttles_in(log_dir) - before, time.monotonic() - started)


def scripted_talk() -> tuple[bytes, int]:
    """One round of the scripted recogniser's transcript as silent audio (it does not listen), and its finals."""
    _, seconds = timed_script()
    return b"\0" * int(seconds * 32000), finals_within(seconds)


def warm(stack: RunningPlatform, pcm: bytes, listeners: Sequence[str]) -> None:
    """The talk's path warmed as make dev warms it once it serves, then one short talk, not counted: the other
    functions' environments start (as a deployment warms up before an event), so the first load does not pay every
    cold start."""
    stack.stack.warm_talk_path()
    asyncio.run(run_talks(stack.url, pcm[: WARM_UP_SECONDS * 32000], 1, listeners, wait_seconds=30))


def run(loads: Sequence[int] = LOADS) -> None:
    pcm, expected = scripted_talk()
    listeners = [LANGUAGES[n % len(LANGUAGES)] for n in range(LISTENERS_PER_TALK)]
    print(
        f"== talks at once, local platform, scripted recogniser ({len(pcm) / 32000:.0f} s talks, "
        f"{LISTENERS_PER_TALK} listeners each in {len(LANGUAGES)} languages), speech end -> final caption"
    )
    with (
        tempfile.TemporaryDirectory() as logs,
        serving_applied_platform(log_dir=Path(logs), variables=SCRIPTED) as stack,
    ):
        warm(stack, pcm, listeners)
        # The deployment's declared capacity as a load of its own too: its talks, none refused, are what the
        # admitted talks of the larger loads compare with.
        capacity = derive(CapacityPlan.model_validate(capacity_plan(stack.stack.endpoint))).max_concurrent_talks
        print(f"   declared capacity: {capacity} talks at once")
        for talks in sorted({*loads, capacity}):
            measure(stack.url, Path(logs), talks, pcm, listeners, expected, wait_seconds=60).print()
    talk = synthesize(TALK)
    print(
        f"== {POCKETSPHINX_TALKS} talks at once, pocketsphinx (the make dev recogniser), the eight-sentence talk, "
        f"listeners {'/'.join(POCKETSPHINX_LISTENERS)} each (target p95 <= 2000 ms)"
    )
    # The local capacity (docs/CAPACITY.md) lifted to the issue's four talks, so none is refused.
    lifted = {"measured_throughput_talks": str(POCKETSPHINX_TALKS)}
    with (
        tempfile.TemporaryDirectory() as logs,
        serving_applied_platform(log_dir=Path(logs), variables=lifted) as stack,
    ):
        stack.stack.warm_talk_path()  # as make dev does once it serves: the first four talks of a make dev
        measure(stack.url, Path(logs), POCKETSPHINX_TALKS, talk, POCKETSPHINX_LISTENERS, 0, wait_seconds=90).print()
    at_the_speech_quota(listeners)


def speech_quota(talks: int, finals_per_second: float) -> EmulatedQuotas:
    """Polly's quotas scaled so that ``talks`` scripted talks to every listened language ask as much more than the
    neural quota as issue #21's 12 talks x 5 languages ask of the account's 8 TPS."""
    demand = talks * len(LANGUAGES) * finals_per_second
    neural = demand * POLLY_NEURAL_TPS / ISSUE_SPEECH_DEMAND_TPS
    return EmulatedQuotas(polly_neural_tps=neural, polly_standard_tps=neural * POLLY_STANDARD_RATIO)


def at_the_speech_quota(listeners: Sequence[str]) -> None:
    """Issue #21's speech quota check on this machine: one talk at AWS's default quotas (which it does not reach),
    then the same talk with Polly's quotas lowered while the platform serves, so that it asks as much more than the
    neural quota as 12 talks x 5 languages ask of 8 TPS; twice each, alternately, and the captions' p95 of each
    pair pooled, side by side.

    One talk, so that the comparison is the quota's alone (on AWS each talk has its own functions; here a second
    talk would share the two cores), and ``QUOTA_ROUNDS`` rounds of the script, so that the bucket's burst (AWS's
    10, two finals' five calls) is spent early and most of the talk runs at the quota's rate."""
    one_round, _ = scripted_talk()
    pcm = one_round * QUOTA_ROUNDS
    expected = finals_within(len(pcm) / 32000)
    lowered = speech_quota(1, expected / (len(pcm) / 32000))
    print(
        f"== speech over Polly's neural quota, scaled: 1 talk x {len(LANGUAGES)} languages ({len(pcm) / 32000:.0f} s, "
        f"{expected} finals) asks {ISSUE_SPEECH_DEMAND_TPS / POLLY_NEURAL_TPS:.2f} x the neural quota, as 12 talks x 5 "
        f"languages ask of 8 TPS (neural {lowered.polly_neural_tps:.2f} TPS, standard {lowered.polly_standard_tps:.1f} "
        "TPS, AWS's bursts); the pipeline on Polly and Translate through the local stand-ins"
    )
    latencies: dict[str, list[float]] = {"under": [], "over": []}
    refused: Counter[str] = Counter()
    with (
        tempfile.TemporaryDirectory() as logs,
        serving_applied_platform(log_dir=Path(logs), variables=AWS_ENGINES) as stack,
    ):
        warm(stack, pcm, listeners)
        for _ in range(QUOTA_PAIRS):
            for name, quotas, title in (
                ("under", EmulatedQuotas(), "at AWS's default quotas"),
                ("over", lowered, "Polly's quotas lowered"),
            ):
                stack.stack.quotas.update(quotas)
                before = Counter(stack.stack.quotas.refused())
                print(f"   {title}:")
                load = measure(stack.url, Path(logs), 1, pcm, listeners, expected, wait_seconds=60)
                load.print()
                latencies[name] += load.latencies_ms()
                refused += Counter(stack.stack.quotas.refused()) - before
    p95 = {name: percentile(values, 0.95) for name, values in latencies.items()}
    print(
        f"   captions over the speech quota: p95 {p95['over']:.0f} ms against {p95['under']:.0f} ms for the same talk "
        f"under it, {QUOTA_PAIRS} talks each pooled ({100 * (p95['over'] - p95['under']) / p95['under']:+.0f} %, "
        f"target within +-20 %); Polly calls refused: neural {refused['polly-neural']}, "
        f"standard {refused['polly-standard']}"
    )
