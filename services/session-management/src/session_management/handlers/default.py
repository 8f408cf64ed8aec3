"""Route ``$default``: any message whose ``action`` matches no route gets an error."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from broadcast_shared.errors import BroadcastError, ErrorCode
from broadcast_shared.runtime import Runtime
from broadcast_shared.websocket import load_json_object, reject
from session_management.app import on_event


def classify(body: str) -> BroadcastError:
    try:
        data = load_json_object(body)
    except BroadcastError as error:
        return error
    action = data.get("action")
    if not isinstance(action, str) or not action:
        return BroadcastError(ErrorCode.INVALID_MESSAGE, "action: Field required")
    return BroadcastError(ErrorCode.UNKNOWN_ACTION, f"unknown action {action!r}", {"action": action})


@on_event
def handler(event: dict[str, Any], runtime: Runtime, context: LambdaContext) -> dict[str, Any]:
    if event.get("isBase64Encoded"):
        error = BroadcastError(ErrorCode.INVALID_MESSAGE, "messages must be JSON text frames")
    else:
        error = classify(event.get("body") or "")
    reject(runtime, event["requestContext"]["connectionId"], error, None)
    return {"statusCode": 200}
