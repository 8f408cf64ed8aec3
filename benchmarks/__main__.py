"""Runs every benchmark and prints its figures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from benchmarks import use_emulator_environment

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "bench")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Bench")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
use_emulator_environment()

from benchmarks import (  # noqa: E402
    artifacts,
    audio,
    fanout,
    flood,
    gateway,
    latency,
    segments,
    session_status,
    talks,
    translation,
)
from benchmarks.harness import keep_logs_out_of_the_figures  # noqa: E402

BENCHMARKS = {
    "artifacts": artifacts,
    "session_status": session_status,
    "gateway": gateway,
    "fanout": fanout,
    "audio": audio,
    "segments": segments,
    "translation": translation,
    "latency": latency,
    "flood": flood,
    "talks": talks,
}

if __name__ == "__main__":
    # `python -m benchmarks fanout gateway` runs those only; no argument runs them all.
    log = keep_logs_out_of_the_figures()
    print(f"(the emulators' and the local runtime's warnings and errors: {log.relative_to(Path.cwd())})")
    for name in sys.argv[1:] or BENCHMARKS:
        BENCHMARKS[name].run()
