"""Waiting in tests and benchmarks for something that happens on another thread, process or server."""

from __future__ import annotations

from collections.abc import Callable

from broadcast_tools.waiting import wait_for


def eventually[T](probe: Callable[[], T | None], timeout: float = 10, interval: float = 0.05, what: str = "") -> T:
    """Call ``probe`` until it returns a truthy value, and return that value (:func:`wait_for`); ``timeout``
    seconds after the first call it raises ``AssertionError`` naming ``what``."""
    outcome = wait_for(probe, timeout, interval)
    if not outcome:
        raise AssertionError(f"not within {timeout:g} s: {what or 'the awaited condition'}")
    return outcome
