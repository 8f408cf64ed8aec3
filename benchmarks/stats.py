from __future__ import annotations

import statistics


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def describe(samples_ms: list[float]) -> str:
    return (
        f"p50 {percentile(samples_ms, 0.50):7.2f} ms   p95 {percentile(samples_ms, 0.95):7.2f} ms   "
        f"mean {statistics.fmean(samples_ms):7.2f} ms   n={len(samples_ms)}"
    )
