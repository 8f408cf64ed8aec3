"""Route ``sendAudio`` (speaker): validate, measure and append one chunk of audio."""

from audio_transcription.app import AudioRuntime, route
from broadcast_shared.messages.inbound import SendAudio
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request


@route(SendAudio, roles={Role.SPEAKER})
def handler(request: Request[SendAudio], runtime: AudioRuntime) -> None:
    runtime.ingest.accept(request.connection, request.message)
