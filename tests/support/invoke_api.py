"""A Lambda Invoke API served on this machine (the local runtime's), recording what reaches it."""

from __future__ import annotations

from typing import Any


class RecordingInvoker:
    """The Invoke API's far side: every invoke that reached it, as ``(function, payload, asynchronous)``."""

    def __init__(self) -> None:
        self.invokes: list[tuple[str, Any, bool]] = []

    def invoke(self, function: str, payload: Any, asynchronous: bool) -> tuple[None, None]:
        self.invokes.append((function, payload, asynchronous))
        return None, None
