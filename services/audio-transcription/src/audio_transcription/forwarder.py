"""Segments to the translation pipeline: an asynchronous Lambda invoke per segment.

Retries are botocore's (standard mode: exponential backoff with jitter on throttling
and 5xx, ``max_attempts`` in all); a segment that still fails is logged and counted
and the audio goes on.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from broadcast_shared.messages.segments import TranscriptSegment
from broadcast_shared.observability import logger, metrics

#: the Lambda client's configuration: bounded retries, short timeouts (an Event invoke
#: returns as soon as Lambda has queued the event)
FORWARD_ATTEMPTS = 4
FORWARD_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": FORWARD_ATTEMPTS}, connect_timeout=1, read_timeout=3
)


class SegmentForwarder:
    def __init__(self, lambda_client: Any, function_name: str) -> None:
        self._lambda = lambda_client
        self._function = function_name

    def forward(self, segment: TranscriptSegment) -> bool:
        if not self._function:
            return False
        try:
            self._lambda.invoke(
                FunctionName=self._function,
                InvocationType="Event",
                Payload=segment.model_dump_json(by_alias=True).encode(),
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning(
                "segment not forwarded to the translation pipeline",
                extra={"segment_id": segment.segment_id, "error": str(exc)},
            )
            metrics.add_metric(name="SegmentsForwardFailed", unit=MetricUnit.Count, value=1)
            return False
        metrics.add_metric(name="SegmentsForwarded", unit=MetricUnit.Count, value=1)
        return True
