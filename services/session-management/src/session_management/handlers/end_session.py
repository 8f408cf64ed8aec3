"""Route ``endSession`` (speaker): end the session; speaker and listeners get ``sessionEnded``."""

from broadcast_shared.messages.inbound import EndSession
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.sessions import SessionService


@route(EndSession, roles={Role.SPEAKER})
def handler(request: Request[EndSession], runtime: SessionRuntime) -> None:
    SessionService(runtime).end(request.connection)
