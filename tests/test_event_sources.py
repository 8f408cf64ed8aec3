"""Kinesis event source mappings, polled locally against moto, delivered as Lambda delivers them."""

from __future__ import annotations

import base64
import io
import threading
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from local_runtime.event_sources import EventSources
from tests.support.ports import free_port
from tests.support.waiting import eventually


class Recorder:
    """Stands in for the function: records each event and can fail on demand."""

    def __init__(self, fail_first: int = 0, partial: list[int] | None = None) -> None:
        self.events: list[dict] = []
        self.fail_first = fail_first
        self.partial = partial or []
        self.lock = threading.Lock()

    def __call__(self, function: str, event: dict):
        with self.lock:
            self.events.append(event)
            if len(self.events) <= self.fail_first:
                raise RuntimeError("function failed")
            if self.partial and len(self.events) == 1:
                records = event["Records"]
                return {
                    "batchItemFailures": [
                        {"itemIdentifier": records[i]["kinesis"]["sequenceNumber"]} for i in self.partial
                    ]
                }
        return None


@pytest.fixture(scope="module")
def own_emulator(aws_endpoint) -> Iterator[str]:
    """A moto server of this module's own: EventSources polls every mapping in its emulator, so each test
    resets it, and the suite-wide emulator is never reset under other tests."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def emulator(own_emulator, monkeypatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", own_emulator)
    urllib.request.urlopen(urllib.request.Request(f"{own_emulator}/moto-api/reset", method="POST"))
    return own_emulator


@pytest.fixture
def function(emulator):
    iam = boto3.client("iam")
    name = f"fn-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    boto3.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handler", Code={"ZipFile": code.getvalue()}
    )
    return name


def kinesis_mapping(function: str, shards: int = 1, **options) -> str:
    kinesis = boto3.client("kinesis")
    stream = f"audio-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=shards)
    arn = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamARN"]
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=function, StartingPosition="TRIM_HORIZON", BatchSize=10, **options
    )
    return stream


def run_sources(endpoint, recorder):
    sources = EventSources(boto3.session.Session(), endpoint, recorder)
    sources.start()
    return sources


def records_seen(recorder: Recorder) -> list[bytes]:
    return [base64.b64decode(r["kinesis"]["data"]) for e in recorder.events for r in e["Records"]]


def test_kinesis_records_arrive_in_order_with_lambdas_event_shape(emulator, function):
    stream = kinesis_mapping(function)
    kinesis = boto3.client("kinesis")
    for n in range(25):
        kinesis.put_record(StreamName=stream, Data=f"chunk-{n}".encode(), PartitionKey="golden-eagle-427")
    recorder = Recorder()
    sources = run_sources(emulator, recorder)
    try:
        eventually(lambda: len(records_seen(recorder)) >= 25)
    finally:
        sources.stop()
    assert records_seen(recorder) == [f"chunk-{n}".encode() for n in range(25)]
    record = recorder.events[0]["Records"][0]
    assert record["eventSource"] == "aws:kinesis"
    assert record["kinesis"]["partitionKey"] == "golden-eagle-427"
    assert all(len(e["Records"]) <= 10 for e in recorder.events)


def test_failed_kinesis_batch_is_retried_before_later_records(emulator, function):
    stream = kinesis_mapping(function, MaximumRetryAttempts=3)
    kinesis = boto3.client("kinesis")
    for n in range(3):
        kinesis.put_record(StreamName=stream, Data=f"c{n}".encode(), PartitionKey="s")
    recorder = Recorder(fail_first=2)
    sources = run_sources(emulator, recorder)
    try:
        eventually(lambda: len(recorder.events) >= 3)
    finally:
        sources.stop()
    assert records_seen(recorder)[:9] == [b"c0", b"c1", b"c2"] * 3


def test_partial_batch_failure_resumes_from_the_first_failed_record(emulator, function):
    stream = kinesis_mapping(function, FunctionResponseTypes=["ReportBatchItemFailures"])
    kinesis = boto3.client("kinesis")
    for n in range(4):
        kinesis.put_record(StreamName=stream, Data=f"c{n}".encode(), PartitionKey="s")
    recorder = Recorder(partial=[2])
    sources = run_sources(emulator, recorder)
    try:
        eventually(lambda: len(recorder.events) >= 2)
    finally:
        sources.stop()
    assert records_seen(recorder)[:6] == [b"c0", b"c1", b"c2", b"c3", b"c2", b"c3"]


def sqs_mapping(function: str, **queue_attributes: str) -> tuple[str, str]:
    """A queue (and its dead-letter queue) whose event source mapping invokes ``function``."""
    sqs = boto3.client("sqs")
    name = f"control-{uuid.uuid4().hex[:8]}"
    dead_letter = sqs.create_queue(QueueName=f"{name}-dead-letter")["QueueUrl"]
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = f'{{"deadLetterTargetArn": "{dead_letter_arn}", "maxReceiveCount": 3}}'
    url = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": redrive, **queue_attributes})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=function, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    return url, dead_letter


class SqsRecorder:
    """Stands in for the function: records each SQS record and reports the bodies in ``refuse`` as failed."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.records: list[dict] = []
        self.refuse = refuse
        self.lock = threading.Lock()

    def __call__(self, function: str, event: dict):
        with self.lock:
            self.records.extend(event["Records"])
        failed = [r["messageId"] for r in event["Records"] if r["body"] in self.refuse]
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}

    def bodies(self) -> list[str]:
        with self.lock:
            return [r["body"] for r in self.records]


def test_delayed_sqs_message_reaches_the_function_after_its_delay_with_lambdas_event_shape(emulator, function):
    url, _ = sqs_mapping(function)
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody='{"sessionId": "s"}', DelaySeconds=1)
    recorder = SqsRecorder()
    sources = run_sources(emulator, recorder)
    try:
        eventually(lambda: recorder.bodies())
    finally:
        sources.stop()
    (record,) = recorder.records
    assert record["eventSource"] == "aws:sqs" and record["body"] == '{"sessionId": "s"}'
    attributes = record["attributes"]
    assert int(attributes["ApproximateFirstReceiveTimestamp"]) - int(attributes["SentTimestamp"]) >= 1000


def test_sqs_records_the_function_handled_are_deleted_and_failed_ones_end_on_the_dead_letter_queue(emulator, function):
    url, dead_letter = sqs_mapping(function, VisibilityTimeout="0")
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="good")
    sqs.send_message(QueueUrl=url, MessageBody="bad")
    recorder = SqsRecorder(refuse=frozenset({"bad"}))
    sources = run_sources(emulator, recorder)
    try:
        eventually(
            lambda: (
                sqs.get_queue_attributes(QueueUrl=dead_letter, AttributeNames=["ApproximateNumberOfMessages"])[
                    "Attributes"
                ]["ApproximateNumberOfMessages"]
                == "1"
            )
        )
    finally:
        sources.stop()
    assert recorder.bodies().count("good") == 1
    assert recorder.bodies().count("bad") >= 2  # retried before it was given up
    (kept,) = sqs.receive_message(QueueUrl=dead_letter)["Messages"]
    assert kept["Body"] == "bad"


def test_each_shard_has_its_own_invocation_in_flight_so_talks_on_other_shards_do_not_wait(emulator, function):
    # A transcription worker holds its shard's batch for up to its whole timeout: a talk on another shard is
    # delivered meanwhile, to an invocation of its own (issue #21: four talks at once).
    stream = kinesis_mapping(function, shards=2)
    kinesis = boto3.client("kinesis")
    shards = [s["HashKeyRange"]["StartingHashKey"] for s in kinesis.list_shards(StreamName=stream)["Shards"]]
    released = threading.Event()
    delivered: list[str] = []

    def worker(name: str, event: dict) -> None:
        key = event["Records"][0]["kinesis"]["partitionKey"]
        delivered.append(key)
        if key == "first-talk":
            released.wait(timeout=30)  # this invocation holds its shard

    for key, start in zip(("first-talk", "second-talk"), shards, strict=True):
        kinesis.put_record(StreamName=stream, Data=key.encode(), PartitionKey=key, ExplicitHashKey=start)
    sources = run_sources(emulator, worker)
    try:
        eventually(lambda: sorted(delivered) == ["first-talk", "second-talk"])
    finally:
        released.set()
        sources.stop()
