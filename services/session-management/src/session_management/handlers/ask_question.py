"""Route ``askQuestion`` (listener): a question to the speaker in the listener's language; the speaker gets
``question`` (translated into the session's language), the asker ``questionReceived``; no other listener hears
of it."""

from broadcast_shared.messages.inbound import AskQuestion
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.questions import QuestionService


@route(AskQuestion, roles={Role.LISTENER})
def handler(request: Request[AskQuestion], runtime: SessionRuntime) -> None:
    QuestionService(runtime).ask(request.connection, request.message.text)
