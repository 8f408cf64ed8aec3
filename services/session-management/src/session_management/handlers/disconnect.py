"""Route ``$disconnect``: forget the connection; a speaker leaving ends their session."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from broadcast_shared.repositories.records import Role
from session_management.app import SessionRuntime, on_event
from session_management.sessions import SessionService


@on_event
def handler(event: dict[str, Any], runtime: SessionRuntime, context: LambdaContext) -> dict[str, Any]:
    gone = runtime.departures.connection_closed(event["requestContext"]["connectionId"])
    if gone is not None and gone.role is Role.LISTENER and gone.session_id:
        SessionService(runtime).audience_changed(gone.session_id)
    return {"statusCode": 200}
