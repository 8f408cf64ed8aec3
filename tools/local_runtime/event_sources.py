"""Lambda event source mappings for Kinesis and SQS, polled locally as Lambda polls them.

Kinesis: each shard is read in order and one batch per shard is in flight at a time; a failed
batch is retried (up to the mapping's MaximumRetryAttempts, then skipped and logged),
and with ``ReportBatchItemFailures`` processing resumes from the first failed record.

SQS: the queue is received from as Lambda does (a message delayed by ``DelaySeconds`` is not
received before its time: the emulator holds it); a batch the function handled is deleted,
except the records it names in ``batchItemFailures``; a failed batch is left to become visible
again after the queue's visibility timeout, and the queue's redrive policy moves a message
received too often to its dead-letter queue.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from typing import Any

from local_runtime.functions import Invoke

log = logging.getLogger("local_runtime.event_sources")

#: an SQS queue found empty is received from again after this long
IDLE_POLL_SECONDS = 0.2
#: a shard found empty is read again after this long: Lambda polls each shard of a Kinesis stream once a second
#: (its base rate). Every read is a moto request, so each idle shard's poller costs the emulator once a second, not
#: five times (a busy shard's poller waits for its worker, which reads the shard itself)
SHARD_POLL_SECONDS = 1.0
#: MaximumRetryAttempts of -1 means "until the record expires" on AWS; locally, this many
LOCAL_RETRY_CAP = 10


class KinesisPoller:
    def __init__(self, kinesis: Any, mapping: dict[str, Any], function: str, invoke: Invoke, region: str) -> None:
        self._kinesis = kinesis
        self._mapping = mapping
        self._function = function
        self._invoke = invoke
        self._region = region
        self._stream_arn = mapping["EventSourceArn"]
        self._batch_size = int(mapping.get("BatchSize") or 100)
        retries = int(mapping.get("MaximumRetryAttempts", -1))
        self._max_retries = LOCAL_RETRY_CAP if retries < 0 else retries
        self._partial = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])

    def run(self, stop: threading.Event) -> None:
        shards = self._kinesis.list_shards(StreamARN=self._stream_arn)["Shards"]
        threads = [
            threading.Thread(
                target=self._shard, args=(shard["ShardId"], stop), daemon=True, name=f"kinesis-{shard['ShardId']}"
            )
            for shard in shards
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _shard(self, shard_id: str, stop: threading.Event) -> None:
        position = self._mapping.get("StartingPosition") or "LATEST"
        iterator = self._kinesis.get_shard_iterator(
            StreamARN=self._stream_arn, ShardId=shard_id, ShardIteratorType=position
        )["ShardIterator"]
        while not stop.is_set():
            page = self._kinesis.get_records(ShardIterator=iterator, Limit=self._batch_size, StreamARN=self._stream_arn)
            records = page.get("Records", [])
            if records:
                self._deliver(shard_id, records, stop)
            iterator = page.get("NextShardIterator") or iterator
            if not records:
                stop.wait(SHARD_POLL_SECONDS)

    def _deliver(self, shard_id: str, records: list[dict[str, Any]], stop: threading.Event) -> None:
        attempt = 0
        while records and not stop.is_set():
            try:
                response = self._invoke(self._function, self._event(shard_id, records))
            except Exception as exc:  # noqa: BLE001 - the function failed: retry the batch
                attempt += 1
                if attempt > self._max_retries:
                    log.warning(
                        "%s: dropping %d records after %d retries: %s",
                        self._function,
                        len(records),
                        self._max_retries,
                        exc,
                    )
                    return
                stop.wait(min(0.1 * 2**attempt, 5))
                continue
            failures = (
                (response or {}).get("batchItemFailures") if self._partial and isinstance(response, dict) else None
            )
            if not failures:
                return
            failed = {item.get("itemIdentifier") for item in failures}
            first = next((i for i, r in enumerate(records) if r["SequenceNumber"] in failed), None)
            if first is None:
                return
            records = records[first:]
            attempt += 1
            if attempt > self._max_retries:
                log.warning("%s: dropping %d records after partial failures", self._function, len(records))
                return

    def _event(self, shard_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": record["PartitionKey"],
                        "sequenceNumber": record["SequenceNumber"],
                        "data": base64.b64encode(record["Data"]).decode(),
                        "approximateArrivalTimestamp": _epoch(record.get("ApproximateArrivalTimestamp")),
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": f"{shard_id}:{record['SequenceNumber']}",
                    "eventName": "aws:kinesis:record",
                    "invokeIdentityArn": "arn:aws:iam::123456789012:role/local",
                    "awsRegion": self._region,
                    "eventSourceARN": self._stream_arn,
                }
                for record in records
            ]
        }


class SqsPoller:
    """One SQS event source mapping: receive, invoke, delete what the function handled."""

    def __init__(self, sqs: Any, mapping: dict[str, Any], function: str, invoke: Invoke, region: str) -> None:
        self._sqs = sqs
        self._function = function
        self._invoke = invoke
        self._region = region
        self._queue_arn = mapping["EventSourceArn"]
        self._batch_size = min(int(mapping.get("BatchSize") or 10), 10)
        self._partial = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
        self._queue_url = sqs.get_queue_url(QueueName=self._queue_arn.rsplit(":", 1)[1])["QueueUrl"]

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            messages = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=self._batch_size,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if messages:
                self._deliver(messages)
            else:
                stop.wait(IDLE_POLL_SECONDS)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        try:
            response = self._invoke(self._function, self._event(messages))
        except Exception as exc:  # noqa: BLE001 - the function failed: SQS redelivers after the visibility timeout
            log.warning("%s: %d messages left on the queue: %s", self._function, len(messages), exc)
            return
        failures = (response or {}).get("batchItemFailures") if self._partial and isinstance(response, dict) else None
        failed = {item.get("itemIdentifier") for item in failures or []}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)],
            )

    def _event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "messageId": message["MessageId"],
                    "receiptHandle": message["ReceiptHandle"],
                    "body": message["Body"],
                    "attributes": message.get("Attributes", {}),
                    "messageAttributes": message.get("MessageAttributes", {}),
                    "md5OfBody": message["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self._queue_arn,
                    "awsRegion": self._region,
                }
                for message in messages
            ]
        }


def _epoch(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value or time.time())


class EventSources:
    """Every enabled Kinesis and SQS event source mapping in the emulator, each polled in its own thread."""

    def __init__(self, session: Any, endpoint: str, invoke: Invoke) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        lambda_ = session.client("lambda", endpoint_url=endpoint)
        region = session.region_name
        self.pollers: list[KinesisPoller | SqsPoller] = []
        for mapping in (
            lambda_.get_paginator("list_event_source_mappings")
            .paginate()
            .build_full_result()
            .get("EventSourceMappings", [])
        ):
            function = mapping["FunctionArn"].split(":function:", 1)[1].split(":", 1)[0]
            if mapping.get("State", "Enabled") not in ("Enabled", "Creating", "Updating"):
                continue
            service = mapping["EventSourceArn"].split(":")[2]
            if service == "sqs":
                self.pollers.append(
                    SqsPoller(session.client("sqs", endpoint_url=endpoint), mapping, function, invoke, region)
                )
                continue
            if service != "kinesis":
                log.warning("event source %s is not polled locally", mapping["EventSourceArn"])
                continue
            self.pollers.append(
                KinesisPoller(session.client("kinesis", endpoint_url=endpoint), mapping, function, invoke, region)
            )

    def start(self) -> None:
        for poller in self.pollers:
            thread = threading.Thread(target=poller.run, args=(self._stop,), daemon=True, name="event-source")
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
