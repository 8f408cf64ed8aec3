"""`make cost`: a short talk through the deployed local platform, what it would be billed on, and the bill.

A Piper talk (``--seconds``, 40 by default) is streamed in real time to one listener in each of es, fr
and pt (``ENV=local`` applied into a scratch moto, as ``make bench``'s latency run does). Its counts
(the cost meter's EMF from the function logs, the gateway's messages and connection time, the runtime's
Lambda requests and GB-seconds: ``local_runtime.metering``) are written to ``.local/cost/counts.json``
and priced for the scenario (``broadcast_tools.cost``: the reference event unless told otherwise; every
argument after ``--`` goes to it, e.g. ``--json`` or ``--listeners 500``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import use_emulator_environment
from broadcast_tools import cost
from broadcast_tools.artifacts import ROOT
from broadcast_tools.speech import continuous_talk
from broadcast_tools.waiting import wait_for
from local_runtime.metering import LogWindow, meter_counts, run_counts
from tests.support.running_platform import serving_applied_platform
from tests.support.talk import TalkResult, everything_arrived, stream_talk

LISTENERS = ("es", "fr", "pt")
COUNTS = ROOT / ".local" / "cost" / "counts.json"
#: how long to wait, after the listeners have everything, for the worker's invocation to end and report
REPORT_WAIT_SECONDS = 300


def _transcribed_seconds(window: LogWindow) -> float:
    seconds = 0.0
    for function, text in window.read().items():
        for key, metrics in meter_counts(function, text.splitlines()).items():
            if key.service == "transcribe":
                seconds += metrics.get("BilledAudioSeconds", 0.0)
    return seconds


def measure(seconds: float, path: Path, port: int = 0) -> dict[str, Any]:
    """One talk's counts, with the run they come from, written to ``path`` before the platform is torn down
    (a failed teardown keeps them)."""
    pcm, text = continuous_talk(seconds)
    talk_seconds = len(pcm) / 32000
    with tempfile.TemporaryDirectory() as logs, serving_applied_platform(log_dir=Path(logs), port=port) as running:
        window = LogWindow(Path(logs))
        result = stream_talk(
            running.url,
            pcm,
            chunk_ms=200,
            pace=1.0,
            wait_seconds=120,
            listeners=LISTENERS,
            complete=everything_arrived(talk_seconds, LISTENERS),
        )
        # The worker writes its counts when its invocation ends (its shard idle for a while; a worker behind
        # real time is still reading) or once a minute; the gateway counts a connection's time when it closes.
        prefix = running.stack.deployment.api_name.removesuffix("websocket")
        wait_for(
            lambda: (
                not running.stack.pool.in_flight(f"{prefix}transcription-worker")
                and _transcribed_seconds(window) >= talk_seconds * 0.95
            ),
            REPORT_WAIT_SECONDS,
            2,
        )
        counts = run_counts(running.stack.usage, window.read(), prefix)
        counts["run"] = _run(counts, talk_seconds, text, result)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(counts, indent=1))
    return counts


def _run(counts: dict[str, Any], talk_seconds: float, text: str, result: TalkResult) -> dict[str, Any]:
    return {
        "talkSeconds": talk_seconds,
        "listeners": len(LISTENERS),
        "languages": list(LISTENERS),
        "wordsPerMinute": len(text.split()) / (talk_seconds / 60),
        "finals": len(result.finals),
        "partials": len(result.partials),
        "transcribedSeconds": _transcribed_seconds_of(counts),
    }


def _transcribed_seconds_of(counts: dict[str, Any]) -> float:
    return sum(c["metrics"].get("BilledAudioSeconds", 0.0) for c in counts["calls"] if c["service"] == "transcribe")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.cost", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40, help="length of the measured talk")
    parser.add_argument("--port", type=int, default=int(os.environ.get("COST_PORT", "0")), help="the gateway's")
    parser.add_argument("--counts", type=Path, default=COUNTS, help="where the run's counts are written")
    parser.add_argument("--reuse", action="store_true", help="price the counts already written, without a run")
    args, scenario = parser.parse_known_args(argv)
    if not args.reuse:
        counts = measure(args.seconds, args.counts, args.port)
        run_info = counts["run"]
        print(
            f"measured: {run_info['talkSeconds']:.1f} s talk ({run_info['wordsPerMinute']:.0f} words/min), "
            f"{run_info['finals']} finals, listeners in {', '.join(LISTENERS)}; counts in {args.counts}",
            file=sys.stderr,
        )
        if run_info["transcribedSeconds"] < 0.9 * run_info["talkSeconds"]:
            print(
                f"warning: only {run_info['transcribedSeconds']:.1f} s of the talk reached the recogniser (a machine "
                "that cannot keep up with real time loses audio): the text-driven figures understate",
                file=sys.stderr,
            )
    return cost.main([str(args.counts), *[a for a in scenario if a != "--"]])


if __name__ == "__main__":
    use_emulator_environment()
    sys.exit(main())
