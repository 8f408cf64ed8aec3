"""Route ``markQuestion`` (speaker): mark an open question of its session answered or dismissed; answer
``questionMarked``."""

from broadcast_shared.messages.inbound import MarkQuestion
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.questions import QuestionService


@route(MarkQuestion, roles={Role.SPEAKER})
def handler(request: Request[MarkQuestion], runtime: SessionRuntime) -> None:
    QuestionService(runtime).mark(request.connection, request.message.question_id, request.message.status)
