"""Route ``heartbeat`` (anyone): keep the connection alive; answer ``heartbeatAck``."""

from broadcast_shared.messages.inbound import Heartbeat
from broadcast_shared.messages.outbound import HeartbeatAck
from broadcast_shared.runtime import RouteRuntime
from broadcast_shared.websocket import Request
from session_management.app import route


@route(Heartbeat)
def handler(request: Request[Heartbeat], runtime: RouteRuntime) -> None:
    runtime.notifier.send(request.connection_id, HeartbeatAck(timestamp=runtime.clock.now()))
