"""A test's WebSocket client speaking the protocol's JSON frames (websockets' synchronous client)."""

from __future__ import annotations

import json
import time
from typing import Any


def send(ws: Any, **message: Any) -> None:
    ws.send(json.dumps(message))


def receive(ws: Any, type_: str, timeout: float = 15) -> dict:
    """The next message of this type (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
        if message.get("type") == type_:
            return message
