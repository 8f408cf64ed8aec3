"""Runs every benchmark and prints its figures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for part in (
    "layers/shared/python",
    "services/session-management/src",
    "services/audio-transcription/src",
    "services/translation-pipeline/src",
    "tools",
    "tests",
):
    sys.path.insert(0, str(ROOT / part))
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "bench")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Bench")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
for key, value in {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
}.items():
    os.environ.setdefault(key, value)

from benchmarks import artifacts, audio, flood, gateway, session_status, translation  # noqa: E402

BENCHMARKS = {
    "artifacts": artifacts,
    "session_status": session_status,
    "gateway": gateway,
    "audio": audio,
    "translation": translation,
    "flood": flood,
}

if __name__ == "__main__":
    # `python -m benchmarks flood audio` runs just those; no names runs every benchmark
    for name in sys.argv[1:] or BENCHMARKS:
        BENCHMARKS[name].run()
