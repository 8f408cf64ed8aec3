"""Faults at the network edge: make a boto3 client's next calls of one operation fail as AWS would.

The fault is a botocore ``before-call`` hook, so everything above the wire (our code,
botocore's parsing into a ``ClientError``) runs unchanged; only the HTTP exchange is
replaced by the error response. botocore's retries are not involved: an injected
fault stands for a call whose retries are already spent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse


@dataclass
class Fault:
    """Fail ``times`` calls of ``operation`` whose parameters satisfy ``when``."""

    operation: str
    code: str
    status: int
    times: int = 1
    when: Callable[[dict[str, Any]], bool] = lambda params: True
    extra: dict[str, Any] = field(default_factory=dict)
    injected: int = 0

    def __call__(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if model.name != self.operation or self.injected >= self.times or not self.when(context[_PARAMS]):
            return None
        self.injected += 1
        response = AWSResponse("https://fault.invalid", self.status, {}, None)
        parsed = {
            "Error": {"Code": self.code, "Message": f"injected {self.code}"},
            "ResponseMetadata": {"HTTPStatusCode": self.status, "HTTPHeaders": {}},
            **self.extra,
        }
        return response, parsed


_PARAMS = "fault-injection-params"


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_PARAMS] = dict(params)


def inject(client: Any, fault: Fault) -> Fault:
    """Register ``fault`` on ``client`` (every operation of its service is checked against it)."""
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-parameter-build.{service}", _keep_params, unique_id="fault-params")
    client.meta.events.register(f"before-call.{service}", fault)
    return fault


def transaction_conflict(item_count: int, conflicting: int = 0, times: int = 1) -> Fault:
    """DynamoDB cancelling a TransactWriteItems because another request held one of its items."""
    reasons = [{"Code": "None"} for _ in range(item_count)]
    reasons[conflicting] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
    return Fault(
        "TransactWriteItems",
        "TransactionCanceledException",
        400,
        times=times,
        extra={"CancellationReasons": reasons},
    )
