"""Sends messages to WebSocket connections through the API Gateway Management API.

A send that meets a gone connection (HTTP 410, ``GoneException``) is reported back as
gone, never raised: callers hand gone connections to
:class:`broadcast_shared.departures.Departures`, which deletes them. A send the account's
request rate still refuses after botocore's retries (HTTP 429 ``LimitExceededException``) is
reported as throttled: that message is dropped for that connection only (``MessagesThrottled``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from broadcast_shared.aws import is_throttling
from broadcast_shared.messages.wire import WireModel
from broadcast_shared.observability import logger, metrics

#: API Gateway refuses WebSocket frames larger than this
MAX_FRAME_BYTES = 128 * 1024


@dataclass
class FanOutResult:
    delivered: int = 0
    gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    #: connections whose message the Management API throttled past botocore's retries (dropped for them)
    throttled: list[str] = field(default_factory=list)


class Notifier:
    def __init__(self, client: Any, concurrency: int = 32) -> None:
        self._client = client
        self._concurrency = concurrency

    def send(self, connection_id: str, message: WireModel) -> bool:
        """Send one message; False when the connection is gone."""
        result = self._post(connection_id, encode(message))
        if result in ("failed", "throttled"):
            raise RuntimeError(f"could not deliver to connection {connection_id}")
        if result == "gone":
            metrics.add_metric(name="GoneConnections", unit=MetricUnit.Count, value=1)
        return result == "delivered"

    def fan_out(self, connection_ids: Iterable[str], message: WireModel) -> FanOutResult:
        """Send one message to many connections concurrently with a bounded pool.

        A slow or failing connection costs one worker, never the others' delivery.
        """
        return self.fan_out_encoded(connection_ids, encode(message))

    def fan_out_encoded(self, connection_ids: Iterable[str], payload: bytes) -> FanOutResult:
        """:meth:`fan_out` for a message already encoded (:func:`encode`)."""
        ids = list(connection_ids)
        result = FanOutResult()
        if not ids:
            return result
        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(ids))) as pool:
            for connection_id, outcome in zip(ids, pool.map(lambda cid: self._post(cid, payload), ids), strict=True):
                if outcome == "delivered":
                    result.delivered += 1
                elif outcome == "gone":
                    result.gone.append(connection_id)
                elif outcome == "throttled":
                    result.throttled.append(connection_id)
                else:
                    result.failed.append(connection_id)
        metrics.add_metric(name="FanOutDelivered", unit=MetricUnit.Count, value=result.delivered)
        if result.gone:
            metrics.add_metric(name="GoneConnections", unit=MetricUnit.Count, value=len(result.gone))
        if result.failed:
            metrics.add_metric(name="FanOutFailed", unit=MetricUnit.Count, value=len(result.failed))
        if result.throttled:
            metrics.add_metric(name="MessagesThrottled", unit=MetricUnit.Count, value=len(result.throttled))
        return result

    def disconnect(self, connection_id: str) -> bool:
        """Close a connection; False when it was already gone."""
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except ClientError as exc:
            if _is_gone(exc):
                return False
            raise
        return True

    def is_connected(self, connection_id: str) -> bool:
        """Whether API Gateway still holds the connection (``GetConnection``); False when gone."""
        try:
            self._client.get_connection(ConnectionId=connection_id)
        except ClientError as exc:
            if _is_gone(exc):
                return False
            raise
        return True

    def _post(self, connection_id: str, payload: bytes) -> str:
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=payload)
        except ClientError as exc:
            if _is_gone(exc):
                return "gone"
            if is_throttling(exc):
                logger.warning("send throttled", extra={"target_connection_id": connection_id, "error": str(exc)})
                return "throttled"
            logger.warning("send failed", extra={"target_connection_id": connection_id, "error": str(exc)})
            return "failed"
        except BotoCoreError as exc:  # a connection error or timeout after botocore's retries: this listener only
            logger.warning("send failed", extra={"target_connection_id": connection_id, "error": str(exc)})
            return "failed"
        return "delivered"


def _is_gone(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "GoneException" or (
        exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 410
    )


def encode(message: WireModel) -> bytes:
    """The bytes a message travels as: compact UTF-8 JSON (not ``\\u`` escapes, which would triple
    the size of CJK text), refused over the frame limit."""
    payload = json.dumps(message.to_wire(), separators=(",", ":"), ensure_ascii=False).encode()
    if len(payload) > MAX_FRAME_BYTES:
        raise ValueError(f"{message.__class__.__name__} is {len(payload)} bytes, over the 128 KB frame limit")
    return payload
