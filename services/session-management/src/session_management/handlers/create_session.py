"""Route ``createSession`` (speaker): start a session, answer ``sessionCreated``, warm the talk's path."""

from broadcast_shared.messages.inbound import CreateSession
from broadcast_shared.messages.outbound import SessionCreated
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.sessions import SessionService
from session_management.status import broadcast_state


@route(CreateSession, roles={Role.SPEAKER})
def handler(request: Request[CreateSession], runtime: SessionRuntime) -> None:
    message = request.message
    session = SessionService(runtime).create(
        request.connection,
        message.source_language,
        message.quality_tier.value,
        message.terminology,
        message.session_id,
        title=message.title,
        presenter=message.presenter,
        passcode=message.passcode.get_secret_value() if message.passcode else None,
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
            resumed=True if message.session_id else None,
            title=session.title,
            presenter=session.presenter,
            private=True if session.is_private else None,
        ),
    )
    runtime.warm_path.warm(runtime.settings.warm_up_functions, session.source_language)
