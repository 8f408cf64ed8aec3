"""Asynchronous invoke from the transcription worker: one transcript segment to every listener language."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from broadcast_shared.messages.segments import TranscriptSegment
from broadcast_shared.observability import logger, metrics
from translation_pipeline.app import PipelineRuntime, on_event
from translation_pipeline.fanout import SLICE_EVENT


@on_event
def handler(event: dict[str, Any], runtime: PipelineRuntime, context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, dict) and event.get("type") == SLICE_EVENT:
        return runtime.pipeline.deliver_slice(event)
    try:
        segment = parse(event=event, model=TranscriptSegment)
    except ValidationError as exc:  # a retry would fail the same way: report it and stop
        logger.error("not a transcript segment", extra={"problems": exc.errors(include_url=False)})
        metrics.add_metric(name="SegmentsInvalid", unit=MetricUnit.Count, value=1)
        return {"languages": {}, "callsPerListener": {}}
    logger.append_keys(session_id=segment.session_id, segment_id=segment.segment_id)
    delivery = runtime.pipeline.process(segment)
    logger.info("segment delivered", extra={"languages": delivery.languages})
    return {"languages": delivery.languages, "callsPerListener": delivery.calls_per_listener}
