"""The platform's DynamoDB tables, created in the emulator with the key schema Terraform declares.

``tests/test_terraform.py`` checks these against the tables Terraform creates.
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3

from broadcast_shared.config import Settings
from broadcast_shared.pricing import read_price_file
from broadcast_tools.cost import PRICES as PRICE_FILE
from session_management.settings import SessionSettings

CONNECTIONS_BY_SESSION_INDEX = "by-session-language"

TABLES: dict[str, dict[str, Any]] = {
    "sessions": {
        "KeySchema": [{"AttributeName": "sessionId", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "sessionId", "AttributeType": "S"}],
    },
    "connections": {
        "KeySchema": [{"AttributeName": "connectionId", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "connectionId", "AttributeType": "S"},
            {"AttributeName": "sessionId", "AttributeType": "S"},
            {"AttributeName": "targetLanguage", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": CONNECTIONS_BY_SESSION_INDEX,
                "KeySchema": [
                    {"AttributeName": "sessionId", "KeyType": "HASH"},
                    {"AttributeName": "targetLanguage", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    },
    "rate-limits": {
        "KeySchema": [{"AttributeName": "limitKey", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "limitKey", "AttributeType": "S"}],
    },
    "translation-cache": {
        "KeySchema": [{"AttributeName": "cacheKey", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "cacheKey", "AttributeType": "S"}],
    },
    "transcripts": {
        "KeySchema": [
            {"AttributeName": "sessionLanguage", "KeyType": "HASH"},
            {"AttributeName": "position", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "sessionLanguage", "AttributeType": "S"},
            {"AttributeName": "position", "AttributeType": "S"},
        ],
    },
    "questions": {
        "KeySchema": [
            {"AttributeName": "sessionId", "KeyType": "HASH"},
            {"AttributeName": "questionId", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "sessionId", "AttributeType": "S"},
            {"AttributeName": "questionId", "AttributeType": "S"},
        ],
    },
    "shard-positions": {
        "KeySchema": [{"AttributeName": "shardKey", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "shardKey", "AttributeType": "S"}],
    },
}


def translation_cache_table(settings: Settings) -> str:
    """The translation cache created beside ``settings``' tables by :func:`fresh_settings`."""
    return settings.sessions_table.removesuffix("-sessions") + "-translation-cache"


def transcripts_table(settings: Settings) -> str:
    """The transcripts table created beside ``settings``' tables by :func:`fresh_settings`."""
    return settings.sessions_table.removesuffix("-sessions") + "-transcripts"


def shard_positions_table(settings: Settings) -> str:
    """The transcription worker's shard positions, created beside ``settings``' tables by :func:`fresh_settings`."""
    return settings.sessions_table.removesuffix("-sessions") + "-shard-positions"


def create_tables(dynamodb: Any, prefix: str) -> dict[str, str]:
    names = {}
    for logical, spec in TABLES.items():
        name = f"{prefix}-{logical}"
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **spec)
        names[logical] = name
    return names


def fresh_settings(dynamodb: Any, management_api_endpoint: str, **limits: Any) -> SessionSettings:
    """Settings over a new set of tables and control queue with unique names, so nothing is shared with another
    run."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    names = create_tables(dynamodb, prefix)
    sqs = boto3.client("sqs", region_name=dynamodb.meta.region_name)
    limits.setdefault("control_queue_url", sqs.create_queue(QueueName=f"{prefix}-control")["QueueUrl"])
    limits.setdefault("allowed_terminologies", frozenset({"acme", "acme-product-names"}))
    limits.setdefault("prices", read_price_file(PRICE_FILE))
    return SessionSettings(
        sessions_table=names["sessions"],
        connections_table=names["connections"],
        rate_limits_table=names["rate-limits"],
        connections_by_session_index=CONNECTIONS_BY_SESSION_INDEX,
        management_api_endpoint=management_api_endpoint,
        transcripts_table=names["transcripts"],
        questions_table=names["questions"],
        **limits,
    )
