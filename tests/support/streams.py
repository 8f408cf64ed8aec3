"""Reading a Kinesis stream in tests."""

from __future__ import annotations

from typing import Any


def read_stream(kinesis: Any, stream: dict) -> list[dict]:
    """Every record on the stream's first shard, oldest first."""
    iterator = kinesis.get_shard_iterator(
        StreamName=stream["name"], ShardId=stream["shard"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return kinesis.get_records(ShardIterator=iterator, Limit=1000)["Records"]
