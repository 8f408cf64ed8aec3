"""``$connect`` REQUEST authorizer: speakers need a valid token, listeners none.

``?role=speaker&token=<JWT>`` is allowed only with a valid speaker token: a missing,
invalid or expired token is denied, never downgraded to a listener.
``?role=listener`` is allowed without a token. Anything else is denied. The role goes
to ``$connect`` in the authorizer context.

The authorizer's runtime is its :class:`TokenVerifier` (the key set, fetched and cached), built once per
environment by the shared entry point like every other function's; tests hand one in with ``handler.using``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponseWebSocket,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from broadcast_shared.observability import logger, metrics
from broadcast_shared.repositories.records import Role
from broadcast_shared.websocket import LazyRuntime, event_decorator
from session_management.auth import InvalidToken, TokenVerifier

on_authorize = event_decorator(LazyRuntime(TokenVerifier.from_environment))


def policy(event: dict[str, Any], allow: bool, principal: str, context: dict[str, str]) -> dict[str, Any]:
    response = APIGatewayAuthorizerResponseWebSocket.from_route_arn(event["methodArn"], principal, context)
    if allow:
        response.allow_all_routes()
    else:
        response.deny_all_routes()
    return response.asdict()


def authorize(event: dict[str, Any], tokens: TokenVerifier) -> dict[str, Any]:
    query = event.get("queryStringParameters") or {}
    role = query.get("role")
    if role == Role.LISTENER.value:
        return policy(event, True, "listener", {"role": Role.LISTENER.value})
    if role == Role.SPEAKER.value:
        try:
            speaker = tokens.verify(query.get("token"))
        except InvalidToken as exc:
            logger.info("speaker token refused", extra={"reason": str(exc)})
            metrics.add_metric(name="SpeakerTokensRefused", unit=MetricUnit.Count, value=1)
            return policy(event, False, "anonymous", {"reason": "invalid speaker token"})
        return policy(event, True, speaker.user_id, {"role": Role.SPEAKER.value, "userId": speaker.user_id})
    return policy(event, False, "anonymous", {"reason": "role must be speaker or listener"})


@on_authorize
def handler(event: dict[str, Any], tokens: TokenVerifier, context: LambdaContext) -> dict[str, Any]:
    return authorize(event, tokens)
