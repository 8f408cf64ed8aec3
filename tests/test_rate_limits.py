"""The rate limiter's counts and budgets taken ahead in blocks (``lease``): fewer writes for a steady caller, never
more than the limit, across several execution environments (each a :class:`RateLimiter` of its own on one table)."""

from __future__ import annotations

import uuid
from collections import Counter

import boto3
import pytest

from broadcast_shared.repositories.rate_limits import RateLimiter
from tests.support.tables import create_tables


@pytest.fixture
def table(aws_endpoint):
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
    name = create_tables(dynamodb, f"t{uuid.uuid4().hex[:10]}")["rate-limits"]
    return boto3.resource("dynamodb", region_name="eu-west-1").Table(name)


def environments(table, count: int) -> tuple[list[RateLimiter], Counter[str]]:
    """``count`` limiters on ``table``, as many execution environments would hold, and the writes they make."""
    writes: Counter[str] = Counter()
    client = table.meta.client
    client.meta.events.register("before-call.dynamodb.UpdateItem", lambda **_: writes.update(["UpdateItem"]))
    return [RateLimiter(table) for _ in range(count)], writes


def test_a_speakers_five_messages_a_second_cost_one_write_a_second(table):
    (limiter,), writes = environments(table, 1)
    for n in range(50):  # ten seconds of five messages a second
        assert limiter.try_acquire("conn#audio", 60, 1, 1000 + n * 0.2, lease=5)
    assert writes["UpdateItem"] == 10


def test_counts_taken_ahead_in_several_environments_never_pass_the_limit(table):
    limiters, _ = environments(table, 7)
    allowed = sum(limiters[n % 7].try_acquire("conn#audio", 60, 1, 1000.5, lease=5) for n in range(200))
    assert allowed == 60


def test_a_block_that_no_longer_fits_still_lets_single_counts_reach_the_limit(table):
    limiters, _ = environments(table, 2)
    assert limiters[0].try_acquire("conn#audio", 12, 1, 1000.5, lease=5)  # takes 5, uses 1
    allowed = sum(limiters[1].try_acquire("conn#audio", 12, 1, 1000.5, lease=5) for _ in range(20))
    assert allowed == 7  # 5 + 2 single: the 12 less what the first environment holds unspent (4)
    assert sum(limiters[0].try_acquire("conn#audio", 12, 1, 1000.5, lease=5) for _ in range(20)) == 4


def test_counts_taken_ahead_lapse_with_their_window(table):
    (limiter,), writes = environments(table, 1)
    assert limiter.try_acquire("conn#audio", 60, 1, 1000.1, lease=5)
    assert limiter.try_acquire("conn#audio", 60, 1, 1001.1, lease=5)  # a new window: a new block
    assert writes["UpdateItem"] == 2


def test_a_real_time_budget_paid_a_second_ahead_costs_a_write_a_second(table):
    (limiter,), writes = environments(table, 1)
    for n in range(150):  # 30 s of 200 ms chunks as they are spoken
        assert limiter.try_spend("audio-seconds#s", 0.2, 1.25, 15.0, 1000 + n * 0.2, lease=1.0)
    assert 30 <= writes["UpdateItem"] <= 36  # one a second, a second write when the budget's time is ahead


def test_a_budget_paid_ahead_in_several_environments_never_overdraws(table):
    limiters, _ = environments(table, 3)
    spent = 0.0
    for n in range(100):  # 75 s of 750 ms chunks at once, spread over three environments
        if limiters[n % 3].try_spend("audio-seconds#s", 0.75, 1.25, 15.0, 1000.0, lease=1.0):
            spent += 0.75
    assert 15.0 - 3 * 1.0 <= spent <= 15.0  # the burst, less at most a lease left unspent per environment
