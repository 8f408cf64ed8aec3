"""Queue ``control`` (SQS): the trailing ``broadcastStateChanged`` of a session's window, and the worker's changes.

Each message (a :class:`~broadcast_shared.control_queue.ControlFollowUp`) names a session whose broadcast state
changed while its window was closed (``session_management.control``), or whose captions the transcription worker
holds back or lets flow again; the session's state as it is now goes to every listener, unless a broadcast carried
it already. A message the model refuses is logged and counted (``ControlMessagesRefused``) and not retried: it would
never parse. A record that fails otherwise is reported in ``batchItemFailures`` and retried by SQS, then kept on the
dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from broadcast_shared.control_queue import ControlFollowUp
from broadcast_shared.observability import logger, metrics
from session_management.app import SessionRuntime, on_event


@on_event
def handler(event: dict[str, Any], runtime: SessionRuntime, context: LambdaContext) -> dict[str, Any]:
    def follow_up(record: SQSRecord) -> None:
        try:
            message = ControlFollowUp.model_validate_json(record.body)
        except ValidationError as refused:
            logger.error("control message refused", extra={"message_id": record.message_id, "reason": str(refused)})
            metrics.add_metric(name="ControlMessagesRefused", unit=MetricUnit.Count, value=1)
            return
        runtime.control.follow_up(message.session_id)

    return dict(process_partial_response(event, follow_up, BatchProcessor(EventType.SQS), context))
