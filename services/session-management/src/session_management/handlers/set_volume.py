"""Route ``setVolume`` (speaker): set playback volume 0..1; everyone gets ``broadcastStateChanged``."""

from broadcast_shared.messages.inbound import SetVolume
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.sessions import SessionService


@route(SetVolume, roles={Role.SPEAKER})
def handler(request: Request[SetVolume], runtime: SessionRuntime) -> None:
    SessionService(runtime).update_broadcast(request.connection, volume=request.message.volume)
