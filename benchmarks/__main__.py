"""Runs every benchmark and prints its figures."""

from __future__ import annotations

import os

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "bench")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Bench")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
for key, value in {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
}.items():
    os.environ.setdefault(key, value)

from benchmarks import artifacts, audio, gateway, segments, session_status, translation  # noqa: E402

if __name__ == "__main__":
    artifacts.run()
    session_status.run()
    gateway.run()
    audio.run()
    segments.run()
    translation.run()
