"""Waiting in tests and benchmarks for something that happens on another thread, process or server."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually[T](probe: Callable[[], T | None], timeout: float = 10, interval: float = 0.05, what: str = "") -> T:
    """Call ``probe`` until it returns a truthy value, and return that value.

    Between calls it sleeps ``interval`` seconds (0: a probe that blocks by itself, such as a socket read with
    its own timeout). ``timeout`` seconds after the first call it raises ``AssertionError`` naming ``what``.
    """
    deadline = time.monotonic() + timeout
    while not (outcome := probe()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout:g} s: {what or 'the awaited condition'}")
        time.sleep(interval)
    return outcome
