"""Route ``getSessionStatus`` (speaker): answer ``sessionStatus`` with ``updateReason`` = ``requested``."""

from broadcast_shared.messages.inbound import GetSessionStatus
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.sessions import SessionService


@route(GetSessionStatus, roles={Role.SPEAKER})
def handler(request: Request[GetSessionStatus], runtime: SessionRuntime) -> None:
    SessionService(runtime).status(request.connection)
