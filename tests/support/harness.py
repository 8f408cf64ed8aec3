"""Drives the session-management handlers the way API Gateway would, route by route."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from broadcast_tools.platform_table import PlatformTable
from local_runtime.management_api import RecordingSink
from session_management.app import SessionRuntime
from tests.support.events import SOURCE_IP, FakeLambdaContext, connect_event, disconnect_event, message_event

TABLE = PlatformTable.load()


def handler_module(route_key: str) -> Any:
    """The module of a route's handler, as platform.json declares it (unknown routes land on ``$default``)."""
    return importlib.import_module(TABLE.route_function(route_key).handler_module)


class Harness:
    """Session management's functions on ``runtime``; the routes of other services (``sendAudio``) on the runtimes
    ``routes`` gives them, as each function builds its own."""

    def __init__(self, runtime: SessionRuntime, sink: RecordingSink, routes: Mapping[str, Any] | None = None) -> None:
        self.runtime = runtime
        self.sink = sink
        self.routes = dict(routes or {})
        self.context = FakeLambdaContext()

    def connect(self, connection_id: str, role: str, user_id: str | None = None) -> dict[str, Any]:
        self.sink.open(connection_id)
        return handler_module("$connect").handler.using(self.runtime)(
            connect_event(connection_id, role, user_id), self.context
        )

    def disconnect(self, connection_id: str) -> dict[str, Any]:
        self.sink.close(connection_id)
        return handler_module("$disconnect").handler.using(self.runtime)(disconnect_event(connection_id), self.context)

    def send(
        self, connection_id: str, body: Any, route_key: str | None = None, source_ip: str = SOURCE_IP
    ) -> dict[str, Any]:
        event = message_event(connection_id, body, route_key, source_ip)
        key = event["requestContext"]["routeKey"]
        return handler_module(key).handler.using(self.routes.get(key, self.runtime))(event, self.context)

    def last(self, connection_id: str, type_: str | None = None) -> dict[str, Any]:
        messages = self.sink.messages(connection_id, type_)
        assert messages, f"{connection_id} received no {type_ or 'message'}: {self.sink.messages(connection_id)}"
        return messages[-1]

    def assert_broadcast_state(
        self, session_id: str, state: dict[str, Any], connections: tuple[str, ...] = ("spk", "l1", "l2")
    ) -> None:
        """Every connection was told ``state``, and the session item holds it."""
        for connection in connections:
            changed = self.last(connection, "broadcastStateChanged")
            assert changed["broadcastState"] == state
            assert changed["sessionId"] == session_id
        stored = self.runtime.sessions.get(session_id)
        assert stored is not None
        assert (stored.is_paused, stored.is_muted, stored.volume) == (
            state["isPaused"],
            state["isMuted"],
            state["volume"],
        )

    def speaker_with_session(self, connection_id: str = "spk", source_language: str = "en") -> str:
        self.connect(connection_id, "speaker", user_id="user-1")
        self.send(connection_id, {"action": "createSession", "sourceLanguage": source_language})
        return self.last(connection_id, "sessionCreated")["sessionId"]

    def listener_in(self, session_id: str, connection_id: str, language: str, captions: bool = True) -> None:
        self.connect(connection_id, "listener")
        join = {"action": "joinSession", "sessionId": session_id, "targetLanguage": language}
        self.send(connection_id, join if captions else {**join, "captions": False})
        self.last(connection_id, "sessionJoined")
