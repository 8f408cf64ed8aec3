"""A large audience's fan-out, split across concurrent invocations of this function.

One invocation's fan-out is bound by its CPU (botocore spends about 1.3 ms on each
Management API call: ``make bench``), not by API Gateway. So a language's listeners are
cut into slices of ``slice_size``: this invocation sends the first slice itself, and
each other slice goes, concurrently, to a synchronous invoke of this same function
with a :class:`FanOutSlice` (``{"type": "fanOutSlice", "message": ..., "connectionIds": [...]}``),
which posts the message to its slice and answers a :class:`SliceDelivery` with the
connections found gone. A slice whose invoke fails, or whose answer is not a delivery, is
sent from here instead (slower, never lost: ``FanOutSlicesFailed``). A slice event the
model refuses posts nothing: it is answered with its error code, logged and counted
(``FanOutSlicesInvalid``).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config
from pydantic import Field, ValidationError

from broadcast_shared.errors import invalid
from broadcast_shared.messages.wire import WireModel
from broadcast_shared.notifier import FanOutResult, Notifier, encode
from broadcast_shared.observability import logger, metrics

SLICE_EVENT = "fanOutSlice"


class FanOutSlice(WireModel):
    """One slice of a language's listeners, sent to a sibling invocation to post ``message`` to."""

    type: Literal["fanOutSlice"] = "fanOutSlice"
    #: the server message (``translation``, ``audio``) as its JSON object, posted unchanged
    message: dict[str, Any]
    connection_ids: Annotated[list[str], Field(min_length=1)]


class SliceDelivery(WireModel):
    """A slice invocation's answer: how many got the message, and who was gone, failed or throttled."""

    delivered: Annotated[int, Field(ge=0)]
    gone: list[str]
    failed: list[str]
    throttled: list[str] = []


#: a slice's invoke: one attempt for transport errors (the fallback sends it from here), an answer in 15 s
SLICE_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1, read_timeout=15, max_pool_connections=64
)


class SlicedFanOut:
    def __init__(self, notifier: Notifier, lambda_client: Any, function_name: str, slice_size: int) -> None:
        self._notifier = notifier
        self._lambda = lambda_client
        self._function = function_name
        self.slice_size = slice_size

    def fan_out(self, connection_ids: list[str], message: WireModel) -> FanOutResult:
        payload = encode(message)
        size = self.slice_size
        slices = [connection_ids[i : i + size] for i in range(0, len(connection_ids), size)]
        if len(slices) <= 1 or not self._function or self._lambda is None:
            return self._notifier.fan_out_encoded(connection_ids, payload)
        result = FanOutResult()
        with ThreadPoolExecutor(max_workers=len(slices), thread_name_prefix="slice") as pool:
            remote = [pool.submit(self._invoke_slice, ids, payload) for ids in slices[1:]]
            parts = [self._notifier.fan_out_encoded(slices[0], payload), *(f.result() for f in remote)]
        for part in parts:
            result.delivered += part.delivered
            result.gone += part.gone
            result.failed += part.failed
            result.throttled += part.throttled
        metrics.add_metric(name="FanOutSlices", unit=MetricUnit.Count, value=len(slices) - 1)
        return result

    def _invoke_slice(self, connection_ids: list[str], payload: bytes) -> FanOutResult:
        event = FanOutSlice(message=json.loads(payload), connection_ids=connection_ids)
        try:
            response = self._lambda.invoke(
                FunctionName=self._function,
                InvocationType="RequestResponse",
                Payload=json.dumps(event.to_wire()).encode(),
            )
            answer = response["Payload"].read()
            if "FunctionError" in response:
                raise RuntimeError(answer[:300].decode(errors="replace"))
            delivery = SliceDelivery.model_validate_json(answer)
        except Exception as exc:  # noqa: BLE001 - the slice is sent from here instead
            logger.warning("fan-out slice invoke failed; sending it from here", extra={"error": str(exc)[:300]})
            metrics.add_metric(name="FanOutSlicesFailed", unit=MetricUnit.Count, value=1)
            return self._notifier.fan_out_encoded(connection_ids, payload)
        return FanOutResult(delivery.delivered, delivery.gone, delivery.failed, delivery.throttled)

    def deliver_slice(self, event: dict[str, Any]) -> dict[str, Any]:
        """The ``fanOutSlice`` invocation: post the message to the slice; the caller handles gone connections."""
        try:
            slice_ = FanOutSlice.model_validate(event)
        except ValidationError as exc:  # a retry would fail the same way: report it and post nothing
            error = invalid(exc)
            logger.error("not a fan-out slice", extra={"code": error.code.value, "reason": error.message})
            metrics.add_metric(name="FanOutSlicesInvalid", unit=MetricUnit.Count, value=1)
            return {"code": error.code.value, "message": error.message}
        payload = json.dumps(slice_.message, separators=(",", ":"), ensure_ascii=False).encode()
        result = self._notifier.fan_out_encoded(slice_.connection_ids, payload)
        return SliceDelivery(
            delivered=result.delivered, gone=result.gone, failed=result.failed, throttled=result.throttled
        ).to_wire()
