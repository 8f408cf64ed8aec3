"""Route ``getTranscript`` (listener: its session and language; speaker: any language of its session):
answer ``transcriptPage``."""

from broadcast_shared.messages.inbound import GetTranscript
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.transcripts import TranscriptService


@route(GetTranscript, roles={Role.SPEAKER, Role.LISTENER})
def handler(request: Request[GetTranscript], runtime: SessionRuntime) -> None:
    message = request.message
    page = TranscriptService(runtime).page(request.connection, message.language, message.next_token)
    runtime.notifier.send(request.connection_id, page)
