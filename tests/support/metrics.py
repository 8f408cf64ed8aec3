"""The metrics a test's code emitted, read from the EMF lines Powertools prints."""

from __future__ import annotations

from collections import Counter

import pytest

from local_runtime.metering import read_emf


def emitted_metrics(capsys: pytest.CaptureFixture[str]) -> Counter[str]:
    """The EMF metrics printed so far, summed by name."""
    totals: Counter[str] = Counter()
    for line in capsys.readouterr().out.splitlines():
        if emf := read_emf(line):
            totals.update(emf.values)
    return totals
