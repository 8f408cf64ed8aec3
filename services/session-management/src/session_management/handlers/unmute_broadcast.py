"""Route ``unmuteBroadcast`` (speaker): send speech again; everyone gets ``broadcastStateChanged``."""

from broadcast_shared.messages.inbound import UnmuteBroadcast
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.sessions import SessionService


@route(UnmuteBroadcast, roles={Role.SPEAKER})
def handler(request: Request[UnmuteBroadcast], runtime: SessionRuntime) -> None:
    SessionService(runtime).update_broadcast(request.connection, is_muted=False)
