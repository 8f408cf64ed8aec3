"""Route ``$connect``: register the connection with the role its authorizer granted."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from broadcast_shared.observability import count_by, logger
from broadcast_shared.repositories.records import Role
from session_management.app import SessionRuntime, on_event


@on_event
def handler(event: dict[str, Any], runtime: SessionRuntime, context: LambdaContext) -> dict[str, Any]:
    request_context = event["requestContext"]
    authorizer = request_context.get("authorizer") or {}
    try:
        role = Role(str(authorizer.get("role")))
    except ValueError:
        logger.warning("connection without an authorized role refused")
        return {"statusCode": 403}
    runtime.connections.add(
        request_context["connectionId"], role, runtime.clock.now(), user_id=authorizer.get("userId")
    )
    count_by("Connections", role=role.value)
    return {"statusCode": 200}
