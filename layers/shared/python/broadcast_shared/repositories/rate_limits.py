"""Rate limits as conditional DynamoDB updates with a TTL: fixed-window message counts
per connection, and budgets of a quantity per second (seconds of audio per session)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from broadcast_shared.repositories import if_condition_holds

#: a counter's item being throttled (a flood on one key) means what a full window means: over the limit
REFUSALS = {"ConditionalCheckFailedException", "ProvisionedThroughputExceededException", "ThrottlingException"}


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
            if exc.response["Error"]["Code"] in REFUSALS:
                return False
            raise
        return True

    def exhausted(self, key: str, limit: int, window_seconds: int, now: float) -> bool:
        """Whether ``key`` has reached ``limit`` in the current window (a read: nothing is counted)."""
        window = int(now // window_seconds)
        item = self._table.get_item(Key={"limitKey": f"{key}#{window}"}).get("Item") or {}
        return int(item.get("hits", 0)) >= limit

    def try_spend(self, key: str, cost: float, rate: float, burst: float, now: float) -> bool:
        """Spend ``cost`` of a budget that refills at ``rate`` per second and holds at most ``burst``.

        The generic cell rate algorithm: the item keeps the theoretical time ``tat`` at
        which everything spent so far would have been paid for at ``rate``; a spend is
        allowed while that stays at most ``burst / rate`` seconds ahead of now. Two
        conditional updates, no read, so concurrent spends never overdraw; a refused
        spend changes nothing.
        """
        step = cost / rate
        latest = now + burst / rate - step  # the latest tat that still leaves room for this cost
        if latest < now:
            return False
        expires = int(now + burst / rate) + 60
        attempts = (
            ("SET tat = :start, expiresAt = :exp", "attribute_not_exists(tat) OR tat <= :now", {":start": now + step}),
            ("SET tat = tat + :step, expiresAt = :exp", "tat <= :latest", {":step": step, ":latest": latest}),
        )
        for update, condition, values in attempts:
            if (
                if_condition_holds(
                    self._table.update_item,
                    Key={"limitKey": key},
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeValues={
                        **{name: _decimal(value) for name, value in values.items()},
                        **({":now": _decimal(now)} if ":now" in condition else {}),
                        ":exp": expires,
                    },
                )
                is not None
            ):
                return True
        return False


def _decimal(value: float) -> Decimal:
    return Decimal(repr(round(value, 6)))
