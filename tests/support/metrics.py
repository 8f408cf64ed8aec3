"""The metrics a test's code emitted, read from the EMF lines Powertools prints."""

from __future__ import annotations

import json

import pytest


def emitted_metrics(capsys: pytest.CaptureFixture[str]) -> dict[str, float]:
    """The EMF metrics printed so far, summed by name."""
    totals: dict[str, float] = {}
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        for definition in blob["_aws"]["CloudWatchMetrics"]:
            for metric in definition["Metrics"]:
                value = blob[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + (
                    sum(value) if isinstance(value, list) else value
                )
    return totals
