"""The decorators every handler of this service uses, bound to the shared runtime."""

from __future__ import annotations

from broadcast_shared.runtime import RouteRuntime
from broadcast_shared.websocket import LazyRuntime, event_decorator, route_decorator
from session_management.settings import SessionSettings

runtime = LazyRuntime(lambda: RouteRuntime.build_route(SessionSettings.from_environment()))
route = route_decorator(runtime)
on_event = event_decorator(runtime)
