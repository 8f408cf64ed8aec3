"""Kinesis event source mapping → the transcription worker (one shard's batch at a time)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from audio_transcription.app import WorkerRuntime, on_worker_event
from audio_transcription.worker import ShardRecord
from broadcast_shared.observability import logger


@on_worker_event
def handler(event: dict[str, Any], runtime: WorkerRuntime, context: LambdaContext) -> dict[str, Any]:
    batch = KinesisStreamEvent(event)
    records = [
        ShardRecord(
            shard_id=record.event_id.split(":", 1)[0],
            sequence_number=record.kinesis.sequence_number,
            data=record.kinesis.data_as_bytes(),
        )
        for record in batch.records
    ]
    stream_arn = next(iter(batch.records)).event_source_arn if records else ""
    logger.info("audio batch", extra={"records": len(records)})
    failed = runtime.worker.run(records, stream_arn, lambda: context.get_remaining_time_in_millis() / 1000)
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
