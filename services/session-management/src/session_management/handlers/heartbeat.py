"""Route ``heartbeat`` (anyone): keep the connection alive; answer ``heartbeatAck``."""

from broadcast_shared.messages.inbound import Heartbeat
from broadcast_shared.messages.outbound import HeartbeatAck
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route


@route(Heartbeat)
def handler(request: Request[Heartbeat], runtime: SessionRuntime) -> None:
    runtime.notifier.send(request.connection_id, HeartbeatAck(timestamp=runtime.clock.now()))
