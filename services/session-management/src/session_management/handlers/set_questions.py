"""Route ``setQuestions`` (speaker): open or close the session to questions; everyone gets
``broadcastStateChanged`` (``questionsClosed`` while closed), coalesced like the other controls."""

from broadcast_shared.messages.inbound import SetQuestions
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.sessions import SessionService


@route(SetQuestions, roles={Role.SPEAKER})
def handler(request: Request[SetQuestions], runtime: SessionRuntime) -> None:
    SessionService(runtime).update_broadcast(request.connection, questions_closed=not request.message.open)
