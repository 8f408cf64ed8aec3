"""Queue ``control`` (SQS, delayed): the trailing ``broadcastStateChanged`` of a session's window.

Each message names a session whose broadcast state changed while its window was closed
(``session_management.control``); the session's state as it is now goes to every listener, unless a broadcast
carried it already. A record that fails is reported in ``batchItemFailures`` and retried by SQS, then kept on
the dead-letter queue.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from session_management.app import SessionRuntime, on_event


@on_event
def handler(event: dict[str, Any], runtime: SessionRuntime, context: LambdaContext) -> dict[str, Any]:
    def follow_up(record: SQSRecord) -> None:
        runtime.control.follow_up(json.loads(record.body)["sessionId"])

    return dict(process_partial_response(event, follow_up, BatchProcessor(EventType.SQS), context))
