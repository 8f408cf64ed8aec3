"""Route ``$default``: any message whose ``action`` matches no route gets an error.

It is counted and screened like every route's message (:class:`Admission`), and the
action it names is echoed back at most ``ECHOED_ACTION_CHARS`` long, so the answer stays
small whatever was sent.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from broadcast_shared.errors import BroadcastError, ErrorCode
from broadcast_shared.websocket import Admission, control_rate, control_size, load_json_object
from session_management.app import SessionRuntime, on_event

ECHOED_ACTION_CHARS = 64


def classify(body: str) -> BroadcastError:
    try:
        data = load_json_object(body)
    except BroadcastError as error:
        return error
    action = data.get("action")
    if not isinstance(action, str) or not action:
        return BroadcastError(ErrorCode.INVALID_MESSAGE, "action: Field required")
    shown = action[:ECHOED_ACTION_CHARS]
    return BroadcastError(ErrorCode.UNKNOWN_ACTION, f"unknown action {shown!r}", {"action": shown})


@on_event
def handler(event: dict[str, Any], runtime: SessionRuntime, context: LambdaContext) -> dict[str, Any]:
    admission = Admission.count(runtime, event, control_rate(runtime))
    try:
        error = classify(admission.screen(event, control_size(runtime), None))
    except BroadcastError as refused:
        error = refused
    admission.refuse(runtime, error, None)
    return {"statusCode": 200}
