"""Route ``pauseBroadcast`` (speaker): pause the broadcast; everyone gets ``broadcastStateChanged``."""

from broadcast_shared.messages.inbound import PauseBroadcast
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.sessions import SessionService


@route(PauseBroadcast, roles={Role.SPEAKER})
def handler(request: Request[PauseBroadcast], runtime: SessionRuntime) -> None:
    SessionService(runtime).update_broadcast(request.connection, is_paused=True)
