"""Route ``changeLanguage`` (listener): switch target language; answer ``languageChanged``."""

from broadcast_shared.messages.inbound import ChangeLanguage
from broadcast_shared.messages.outbound import LanguageChanged
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.sessions import SessionService


@route(ChangeLanguage, roles={Role.LISTENER})
def handler(request: Request[ChangeLanguage], runtime: SessionRuntime) -> None:
    session_id = SessionService(runtime).change_language(request.connection, request.message.target_language)
    runtime.notifier.send(
        request.connection_id,
        LanguageChanged(session_id=session_id, target_language=request.message.target_language),
    )
