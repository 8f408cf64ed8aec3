"""API Gateway WebSocket events and Lambda contexts shaped as Lambda receives them."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext


class FakeLambdaContext(LambdaContext):
    """The context Lambda passes a handler, as powertools types it; 29 s of the invocation left."""

    def __init__(self, function_name: str = "test-function") -> None:
        self._function_name = function_name
        self._function_version = "$LATEST"
        self._invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{function_name}"
        self._memory_limit_in_mb = 256
        self._aws_request_id = "00000000-0000-0000-0000-000000000000"
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = "test"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


def request_context(connection_id: str, route_key: str, event_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "connectionId": connection_id,
        "requestId": uuid.uuid4().hex,
        "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
        "stage": "test",
        "apiId": "abc123",
        "connectedAt": 0,
        "requestTimeEpoch": 0,
        "messageDirection": "IN",
        **extra,
    }


#: the address every test client sends from unless it says otherwise (TEST-NET-3)
SOURCE_IP = "203.0.113.7"


def message_event(
    connection_id: str, body: Any, route_key: str | None = None, source_ip: str = SOURCE_IP
) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    if route_key is None:
        route_key = body.get("action", "$default") if isinstance(body, dict) else "$default"
    return {
        "requestContext": request_context(
            connection_id, route_key, "MESSAGE", identity={"sourceIp": source_ip, "userAgent": "test"}
        ),
        "body": text,
        "isBase64Encoded": False,
    }


def connect_event(connection_id: str, role: str | None, user_id: str | None = None) -> dict[str, Any]:
    authorizer = {} if role is None else {"role": role, **({"userId": user_id} if user_id else {})}
    return {
        "requestContext": request_context(connection_id, "$connect", "CONNECT", authorizer=authorizer),
        "queryStringParameters": {"role": role} if role else {},
        "isBase64Encoded": False,
    }


def disconnect_event(connection_id: str) -> dict[str, Any]:
    return {
        "requestContext": request_context(
            connection_id, "$disconnect", "DISCONNECT", disconnectStatusCode=1001, disconnectReason="Going away"
        ),
        "isBase64Encoded": False,
    }


def authorizer_event(query: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abc123/test/$connect",
        "queryStringParameters": query,
        "requestContext": request_context("auth-conn", "$connect", "CONNECT"),
    }
