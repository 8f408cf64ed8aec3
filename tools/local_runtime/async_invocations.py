"""Lambda's asynchronous invocation, locally: retries, then the on-failure destination.

An ``Event`` invoke (another function's, or a schedule's: EventBridge Scheduler invokes
asynchronously) is retried ``maximum_retry_attempts`` times as the function's event
invoke configuration says; when every attempt failed, the event goes to the
configuration's on-failure SQS queue in the emulator, in the record Lambda sends
(``requestContext.condition`` ``RetriesExhausted``, ``requestPayload`` the event,
``responsePayload`` the error). A schedule run that cannot be handed to Lambda at all
(the function is gone) goes to the schedule's dead-letter queue with the attributes
EventBridge Scheduler sets. Lambda waits about 1 and 2 minutes between attempts; locally
the wait is ``retry_delay`` seconds.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from local_runtime.deployment import FunctionConfig
from local_runtime.functions import FunctionError

log = logging.getLogger("local_runtime.async")


def queue_url(sqs: Any, arn: str) -> str:
    """``arn:aws:sqs:REGION:ACCOUNT:NAME`` → the queue's URL in the emulator."""
    _, _, _, _, account, name = arn.split(":", 5)
    return str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


class AsyncInvoker:
    def __init__(
        self, invoke: Callable[[str, Any], Any], sqs: Any, retry_delay: float = 1.0, sleep: Callable = time.sleep
    ) -> None:
        self._invoke = invoke
        self._sqs = sqs
        self._retry_delay = retry_delay
        self._sleep = sleep

    def invoke(self, config: FunctionConfig, event: Any) -> bool:
        """Run ``event`` as Lambda runs an asynchronous one; False when it ended on the on-failure queue (or,
        with none configured, only in the log)."""
        attempts = 1 + config.maximum_retry_attempts
        error: dict[str, Any] = {}
        for attempt in range(1, attempts + 1):
            try:
                self._invoke(config.name, event)
                return True
            except FunctionError as failure:
                error = failure.payload
                log.warning(
                    "asynchronous invocation of %s failed (attempt %d of %d): %s",
                    config.name,
                    attempt,
                    attempts,
                    error.get("errorMessage"),
                )
            if attempt < attempts:
                self._sleep(self._retry_delay * attempt)
        if config.on_failure:
            record = {
                "version": "1.0",
                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "requestContext": {
                    "requestId": str(uuid.uuid4()),
                    "functionArn": f"{config.arn}:$LATEST",
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": attempts,
                },
                "requestPayload": event,
                "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
                "responsePayload": error,
            }
            self._sqs.send_message(QueueUrl=queue_url(self._sqs, config.on_failure), MessageBody=json.dumps(record))
        return False

    def undelivered(self, schedule: dict[str, Any], event: Any, code: str, message: str) -> None:
        """A schedule's run that never reached its function: to the schedule's dead-letter queue, if any."""
        log.warning("schedule %s could not invoke %s: %s", schedule["name"], schedule["function"], message)
        if not schedule.get("dead_letter"):
            return
        attributes = {
            "ERROR_CODE": code,
            "ERROR_MESSAGE": message,
            "SCHEDULE_ARN": schedule.get("arn", schedule["name"]),
            "TARGET_ARN": schedule["function"],
        }
        self._sqs.send_message(
            QueueUrl=queue_url(self._sqs, schedule["dead_letter"]),
            MessageBody=json.dumps(event),
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
