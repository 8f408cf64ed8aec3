"""Rate limits as conditional DynamoDB updates with a TTL: fixed-window message counts
per connection, and budgets of a quantity per second (seconds of audio per session).

A caller at a steady high rate (a speaker's five ``sendAudio`` messages a second) may take its
counts and budget ahead in blocks (``lease``): one conditional update takes several, and this
execution environment spends them without another write. Nothing beyond the limit is ever
allowed, since a block is taken only while it fits; what a block leaves unspent in one
environment is only unavailable to the others, and when a block no longer fits, a single count
(or the exact cost) is still tried, so a caller is refused only at the limit itself, less what
other environments hold unspent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from broadcast_shared.repositories import if_condition_holds, remember

#: a counter's item being throttled (a flood on one key) means what a full window means: over the limit
REFUSALS = {"ConditionalCheckFailedException", "ProvisionedThroughputExceededException", "ThrottlingException"}


class RateLimiter:
    def __init__(self, table: Any) -> None:
        self._table = table
        #: key -> (window, counts taken ahead and not yet used in it)
        self._counts: dict[str, tuple[int, int]] = {}
        #: key -> budget paid ahead and not yet spent
        self._credit: dict[str, float] = {}

    def try_acquire(self, key: str, limit: int, window_seconds: int, now: float, lease: int = 1) -> bool:
        """Count one use of ``key`` in the current window; False when the limit is reached.

        With ``lease`` above 1, ``lease`` counts are taken at once while they fit and the rest
        kept for this key's next uses in the window. A refused call changes nothing, so a
        client over its limit does not push its own window further.
        """
        window = int(now // window_seconds)
        held_window, held = self._counts.get(key, (window, 0))
        if held_window == window and held > 0:
            self._counts[key] = (window, held - 1)
            return True
        if lease > 1 and self._add(key, window, window_seconds, lease, limit):
            remember(self._counts, key, (window, lease - 1))
            return True
        return self._add(key, window, window_seconds, 1, limit)

    def _add(self, key: str, window: int, window_seconds: int, count: int, limit: int) -> bool:
        try:
            self._table.update_item(
                Key={"limitKey": f"{key}#{window}"},
                UpdateExpression="ADD hits :count SET expiresAt = :exp",
                ConditionExpression="attribute_not_exists(hits) OR hits <= :most",
                ExpressionAttributeValues={
                    ":count": count,
                    ":most": limit - count,
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

    def try_spend(self, key: str, cost: float, rate: float, burst: float, now: float, lease: float = 0.0) -> bool:
        """Spend ``cost`` of a budget that refills at ``rate`` per second and holds at most ``burst``.

        The generic cell rate algorithm: the item keeps the theoretical time ``tat`` at
        which everything spent so far would have been paid for at ``rate``; a spend is
        allowed while that stays at most ``burst / rate`` seconds ahead of now. Two
        conditional updates, no read, so concurrent spends never overdraw; a refused
        spend changes nothing. With ``lease`` above ``cost``, ``lease`` is paid while it fits and
        the rest kept for this key's next spends.
        """
        credit = self._credit.get(key, 0.0)
        if credit >= cost:
            self._credit[key] = credit - cost
            return True
        if lease > cost and self._spend(key, lease, rate, burst, now):
            remember(self._credit, key, credit + lease - cost)
            return True
        return self._spend(key, cost, rate, burst, now)

    def _spend(self, key: str, cost: float, rate: float, burst: float, now: float) -> bool:
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
