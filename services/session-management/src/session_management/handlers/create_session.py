"""Route ``createSession`` (speaker): start a session, answer ``sessionCreated``, warm the talk's path."""

from broadcast_shared.messages.inbound import CreateSession
from broadcast_shared.messages.outbound import SessionCreated
from broadcast_shared.repositories.records import Role
from broadcast_shared.runtime import RouteRuntime
from broadcast_shared.websocket import Request
from session_management.app import route
from session_management.sessions import SessionService
from session_management.settings import session_settings
from session_management.status import broadcast_state
from session_management.warm_path import warm_path


@route(CreateSession, roles={Role.SPEAKER})
def handler(request: Request[CreateSession], runtime: RouteRuntime) -> None:
    session = SessionService(runtime).create(
        request.connection,
        request.message.source_language,
        request.message.quality_tier.value,
        request.message.terminology,
        request.message.session_id,
    )
    runtime.notifier.send(
        request.connection_id,
        SessionCreated(
            session_id=session.session_id,
            source_language=session.source_language,
            quality_tier=session.quality_tier,
            broadcast_state=broadcast_state(session),
            created_at=session.created_at,
            terminology=session.terminology,
            resumed=True if request.message.session_id else None,
        ),
    )
    warm_path.get().warm(session_settings(runtime).warm_up_functions, session.source_language)
