"""The fault plan at the local platform's network edge: AWS errors as the service sends them, held calls,
and the Management API's; everything else passes through unchanged."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from local_runtime.faults import Fault, Faults, FaultyAwsEndpoint
from local_runtime.management_api import ManagementApiServer, RecordingSink

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def edge(aws_endpoint):
    faults = Faults()
    proxy = FaultyAwsEndpoint(aws_endpoint, faults).start()
    yield proxy, faults
    proxy.stop()


@pytest.fixture
def table(edge):
    proxy, _ = edge
    dynamodb = boto3.client("dynamodb", endpoint_url=proxy.url, config=NO_RETRIES)
    name = f"faults-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb, name


def test_a_throttle_reaches_the_client_as_dynamodb_sends_it_then_calls_pass_again(edge, table):
    _, faults = edge
    dynamodb, name = table
    fault = faults.arm(Fault("dynamodb", "PutItem", status=400, code="ProvisionedThroughputExceededException"))
    with pytest.raises(ClientError) as throttled:
        dynamodb.put_item(TableName=name, Item={"id": {"S": "a"}})
    assert throttled.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert fault.injected == 1
    dynamodb.put_item(TableName=name, Item={"id": {"S": "a"}})
    assert dynamodb.get_item(TableName=name, Key={"id": {"S": "a"}})["Item"] == {"id": {"S": "a"}}


def test_a_fault_strikes_only_the_operation_and_body_it_names(edge, table):
    _, faults = edge
    dynamodb, name = table
    fault = faults.arm(Fault("dynamodb", "PutItem", pattern='"victim"', code="InternalServerError"))
    dynamodb.put_item(TableName=name, Item={"id": {"S": "bystander"}})
    dynamodb.get_item(TableName=name, Key={"id": {"S": "victim"}})
    assert fault.injected == 0
    with pytest.raises(ClientError):
        dynamodb.put_item(TableName=name, Item={"id": {"S": "victim"}})


def test_a_held_call_outlives_a_client_that_gives_up(edge, table):
    proxy, faults = edge
    _, name = table
    impatient = boto3.client(
        "dynamodb",
        endpoint_url=proxy.url,
        config=Config(read_timeout=0.5, retries={"mode": "standard", "total_max_attempts": 1}),
    )
    faults.arm(Fault("dynamodb", "GetItem", status=None, delay=2))
    with pytest.raises(ReadTimeoutError):
        impatient.get_item(TableName=name, Key={"id": {"S": "a"}})


def test_the_management_api_answers_with_the_armed_error_then_delivers(aws_endpoint):
    faults = Faults()
    sink = RecordingSink()
    sink.open("c1")
    server = ManagementApiServer(sink, faults=faults).start()
    try:
        client = boto3.client(
            "apigatewaymanagementapi", endpoint_url=server.endpoint, region_name="eu-west-1", config=NO_RETRIES
        )
        faults.arm(Fault("execute-api", "PostToConnection", status=429, code="LimitExceededException"))
        with pytest.raises(ClientError) as limited:
            client.post_to_connection(ConnectionId="c1", Data=b'{"type":"translation"}')
        assert limited.value.response["Error"]["Code"] == "LimitExceededException"
        client.post_to_connection(ConnectionId="c1", Data=b'{"type":"translation"}')
        assert sink.messages("c1") == [{"type": "translation"}]
    finally:
        server.stop()
