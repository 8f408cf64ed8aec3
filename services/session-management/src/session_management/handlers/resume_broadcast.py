"""Route ``resumeBroadcast`` (speaker): resume a paused broadcast; everyone gets ``broadcastStateChanged``."""

from broadcast_shared.messages.inbound import ResumeBroadcast
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.sessions import SessionService


@route(ResumeBroadcast, roles={Role.SPEAKER})
def handler(request: Request[ResumeBroadcast], runtime: SessionRuntime) -> None:
    SessionService(runtime).update_broadcast(request.connection, is_paused=False)
