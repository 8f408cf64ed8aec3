"""A test's WebSocket client speaking the protocol's JSON frames (websockets' synchronous client)."""

from __future__ import annotations

import json
from typing import Any

from tests.support.waiting import eventually


def send(ws: Any, **message: Any) -> None:
    ws.send(json.dumps(message))


def receive(ws: Any, type_: str, timeout: float = 15) -> dict[str, Any]:
    """The next message of this type (others are skipped)."""

    def next_of_type() -> dict[str, Any] | None:
        message: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
        return message if message.get("type") == type_ else None

    return eventually(next_of_type, timeout, interval=0, what=f"a {type_} message")
