"""Waiting for something that happens in another process or thread: the one polling loop the tools, the tests
(``tests.support.waiting.eventually``) and the benchmarks share."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for[T](probe: Callable[[], T | None], timeout: float, interval: float = 0.05) -> T | None:
    """Call ``probe`` until it returns a truthy value, and return that value; None once ``timeout`` seconds have
    passed since the first call. Between calls it sleeps ``interval`` seconds (0: a probe that blocks by itself,
    such as a socket read with its own timeout)."""
    deadline = time.monotonic() + timeout
    while not (outcome := probe()):
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
    return outcome
