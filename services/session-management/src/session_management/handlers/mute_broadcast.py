"""Route ``muteBroadcast`` (speaker): send captions without speech; everyone gets ``broadcastStateChanged``."""

from broadcast_shared.messages.inbound import MuteBroadcast
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.sessions import SessionService


@route(MuteBroadcast, roles={Role.SPEAKER})
def handler(request: Request[MuteBroadcast], runtime: SessionRuntime) -> None:
    SessionService(runtime).update_broadcast(request.connection, is_muted=True)
