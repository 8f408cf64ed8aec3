"""Fixed-window rate limits per connection, as conditional counters with a TTL."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


class RateLimiter:
    def __init__(self, table: Any) -> None:
        self._table = table

    def try_acquire(self, key: str, limit: int, window_seconds: int, now: float) -> bool:
        """Count one use of ``key`` in the current window; False when the limit is reached.

        A refused call changes nothing, so a client over its limit does not push its
        own window further.
        """
        window = int(now // window_seconds)
        try:
            self._table.update_item(
                Key={"limitKey": f"{key}#{window}"},
                UpdateExpression="ADD hits :one SET expiresAt = :exp",
                ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
                ExpressionAttributeValues={
                    ":one": 1,
                    ":limit": limit,
                    ":exp": (window + 1) * window_seconds + 60,
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
