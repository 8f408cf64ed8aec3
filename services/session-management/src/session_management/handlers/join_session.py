"""Route ``joinSession`` (listener): join a session in a target language (with or without captions, kept on
the connection: partials go only to listeners showing captions); answer ``sessionJoined``; warm the pipeline
for a language's first listener."""

from broadcast_shared.messages.inbound import JoinSession
from broadcast_shared.messages.outbound import SessionJoined
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import Request
from session_management.app import SessionRuntime, route
from session_management.sessions import SessionService
from session_management.status import broadcast_state


@route(JoinSession, roles={Role.LISTENER})
def handler(request: Request[JoinSession], runtime: SessionRuntime) -> None:
    message = request.message
    session = SessionService(runtime).join(
        request.connection,
        message.session_id,
        message.target_language,
        request.source_ip,
        message.passcode.get_secret_value() if message.passcode else None,
        message.captions,
    )
    runtime.notifier.send(
        request.connection_id,
        SessionJoined(
            session_id=session.session_id,
            target_language=message.target_language,
            source_language=session.source_language,
            broadcast_state=broadcast_state(session),
            title=session.title,
            presenter=session.presenter,
        ),
    )
    if not session.language_counts.get(message.target_language):
        runtime.warm_path.warm_translation(
            runtime.settings.translation_function_name, session.source_language, message.target_language
        )
