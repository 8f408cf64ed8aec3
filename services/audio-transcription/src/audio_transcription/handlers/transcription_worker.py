"""Kinesis event source mapping → the transcription worker (one shard's batch at a time)."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from audio_transcription.worker import ShardRecord
from audio_transcription.worker_app import WorkerRuntime, on_worker_event
from broadcast_shared.observability import logger

# The records' few fields are read from the event itself, not through Powertools' ``KinesisStreamEvent``: importing
# it runs the ``data_classes`` package, which imports every event class Powertools has (about 45 ms of the worker's
# cold start, ``make bench``).


def shard_record(record: dict[str, Any]) -> ShardRecord:
    """One Kinesis record of the batch: ``eventID`` is ``<shard id>:<sequence number>``."""
    kinesis = record["kinesis"]
    return ShardRecord(
        shard_id=str(record["eventID"]).split(":", 1)[0],
        sequence_number=str(kinesis["sequenceNumber"]),
        data=base64.b64decode(kinesis["data"]),
    )


@on_worker_event
def handler(event: dict[str, Any], runtime: WorkerRuntime, context: LambdaContext) -> dict[str, Any]:
    batch = event.get("Records") or []
    records = [shard_record(record) for record in batch]
    stream_arn = str(batch[0]["eventSourceARN"]) if batch else ""
    logger.info("audio batch", extra={"records": len(records)})
    failed = runtime.worker.run(records, stream_arn, lambda: context.get_remaining_time_in_millis() / 1000)
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
