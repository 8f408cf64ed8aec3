"""Processes started as a terminal starts them."""

from __future__ import annotations

import signal


def as_in_a_terminal() -> None:
    """Ctrl-C as a terminal delivers it (a ``preexec_fn``): a suite started in the background (``.ci/run &``)
    ignores SIGINT, and every process it starts would inherit that, so an interrupt would never reach their Python."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
