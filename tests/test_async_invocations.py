"""Asynchronous invocations run locally as Lambda runs them: retried, then kept on the on-failure queue."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from local_runtime.async_invocations import AsyncInvoker
from local_runtime.deployment import FunctionConfig
from local_runtime.functions import Endpoints, FunctionPool

HANDLER = """
attempts = 0

def handler(event, context):
    global attempts
    attempts += 1
    if attempts <= event.get("fail_times", 0):
        raise ValueError(f"attempt {attempts} failed")
    return {"attempts": attempts}
"""


@pytest.fixture
def sqs():
    with mock_aws():
        yield boto3.client("sqs", region_name="eu-west-1")


@pytest.fixture
def flaky(tmp_path: Path, sqs):
    code = tmp_path / "code"
    code.mkdir()
    (code / "flaky.py").write_text(HANDLER)
    queue = sqs.create_queue(QueueName="flaky-failures")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    config = FunctionConfig(
        name="flaky",
        arn="arn:aws:lambda:eu-west-1:123456789012:function:flaky",
        handler="flaky.handler",
        runtime="python3.12",
        timeout=5,
        memory_size=256,
        environment={},
        code_dir=code,
        layer_dirs=(),
        on_failure=arn,
        maximum_retry_attempts=1,
    )
    pool = FunctionPool({"flaky": config}, Endpoints(aws="http://127.0.0.1:1"), tmp_path / "logs", max_concurrency=1)
    yield config, pool, queue
    pool.close()


def messages(sqs, queue: str) -> list[dict]:
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return received.get("Messages", [])


def test_a_failure_the_retry_absorbs_leaves_nothing_on_the_queue(flaky, sqs):
    config, pool, queue = flaky
    invoker = AsyncInvoker(pool.invoke, sqs, sleep=lambda _: None)
    assert invoker.invoke(config, {"fail_times": 1}) is True
    assert messages(sqs, queue) == []


def test_an_event_failing_every_retry_lands_on_the_on_failure_queue_as_lambda_records_it(flaky, sqs):
    config, pool, queue = flaky
    invoker = AsyncInvoker(pool.invoke, sqs, sleep=lambda _: None)
    assert invoker.invoke(config, {"fail_times": 5, "segment": "s-1"}) is False
    (message,) = messages(sqs, queue)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["functionArn"].startswith(config.arn)
    assert record["requestPayload"] == {"fail_times": 5, "segment": "s-1"}
    assert record["responsePayload"]["errorMessage"] == "attempt 2 failed"


def test_without_a_destination_a_failed_event_is_only_logged(flaky, sqs):
    config, pool, queue = flaky
    invoker = AsyncInvoker(pool.invoke, sqs, sleep=lambda _: None)
    assert invoker.invoke(replace(config, on_failure=None, maximum_retry_attempts=0), {"fail_times": 1}) is False
    assert messages(sqs, queue) == []


def test_a_schedule_run_that_cannot_reach_its_function_is_a_dead_letter(sqs):
    queue = sqs.create_queue(QueueName="schedules-undelivered")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    schedule = {"name": "sweep", "arn": "arn:aws:scheduler:::schedule/g/sweep", "function": "gone", "dead_letter": arn}
    AsyncInvoker(lambda *_: None, sqs).undelivered(schedule, {"schedule": "sweep"}, "ResourceNotFoundException", "no")
    (message,) = messages(sqs, queue)
    assert json.loads(message["Body"]) == {"schedule": "sweep"}
    assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "ResourceNotFoundException"
    assert message["MessageAttributes"]["TARGET_ARN"]["StringValue"] == "gone"
