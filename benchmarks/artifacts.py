"""Artifact sizes, no-op rebuild time, and each function's import (cold-start) time."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from benchmarks.stats import describe
from broadcast_tools.artifacts import ROOT
from broadcast_tools.build import build
from broadcast_tools.platform_table import PlatformTable

IMPORT_RUNS = 5
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


def run() -> None:
    dist = ROOT / "dist"
    manifest = json.loads((dist / "manifest.json").read_text())
    print("== artifacts (Lambda limit: 250 MB unzipped, function + layers)")
    unzipped_total = 0
    for name, entry in sorted(manifest["artifacts"].items()):
        with zipfile.ZipFile(dist / entry["path"]) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
        unzipped_total += unzipped
        print(f"  {name:22s} zip {entry['size'] / 1e6:7.2f} MB   unzipped {unzipped / 1e6:7.2f} MB")
    print(f"  function + layer unzipped: {unzipped_total / LAMBDA_UNZIPPED_LIMIT:.1%} of the limit")

    started = time.perf_counter()
    build(dist, manifest["runtime"], manifest["architecture"], ROOT / ".build" / "cache")
    print(f"  rebuild with nothing changed: {time.perf_counter() - started:.2f} s (target < 2 s)")

    print(f"== import (cold-start) time per function, fresh interpreter, {IMPORT_RUNS} runs")
    table = PlatformTable.load()
    with tempfile.TemporaryDirectory() as scratch:
        paths = {}
        for name, entry in manifest["artifacts"].items():
            target = Path(scratch) / name
            zipfile.ZipFile(dist / entry["path"]).extractall(target)
            paths[name] = str(target / "python") if (target / "python").is_dir() else str(target)
        for key, function in sorted(table.functions.items()):
            # As on Lambda: the function's own artifact, then the layers.
            search = [paths[function.artifact], *(paths[layer] for layer in table.layers)]
            samples = [_import_ms(function.handler_module, search) for _ in range(IMPORT_RUNS)]
            print(f"  {key:24s} median {statistics.median(samples):7.1f} ms   {describe(samples)}")


def _import_ms(module: str, paths: list[str]) -> float:
    # The artifacts first, then this interpreter's site-packages standing in for the
    # boto3 the Lambda runtime provides.
    runtime_packages = [p for p in sys.path if p.endswith("site-packages")]
    code = (
        f"import sys, time; sys.path[:0] = {paths!r}; sys.path += {runtime_packages!r}; "
        f"t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"
    )
    env = {"PATH": "/usr/bin:/bin", "POWERTOOLS_SERVICE_NAME": "bench", "POWERTOOLS_METRICS_NAMESPACE": "Bench"}
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip())
