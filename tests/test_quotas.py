"""The emulated account's quotas (local_runtime.quotas): a token bucket per request quota, changed while serving as
Service Quotas changes one (the talks benchmark lowers Polly's while the platform serves)."""

from __future__ import annotations

from local_runtime.quotas import AccountBuckets, EmulatedQuotas, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def takes(bucket: TokenBucket, n: int) -> int:
    return sum(bucket.take() for _ in range(n))


def test_a_lowered_quota_refuses_past_its_new_burst_and_refills_at_its_new_rate():
    clock = Clock()
    bucket = TokenBucket(rate=8, burst=10, clock=clock)
    assert takes(bucket, 4) == 4  # six saved up
    bucket.set(rate=1, burst=2)
    assert takes(bucket, 5) == 2  # what was saved, down to the new burst
    clock.now += 1.0
    assert takes(bucket, 5) == 1
    assert bucket.refused == 7


def test_a_raised_quota_refills_at_its_new_rate_from_when_it_changed():
    clock = Clock()
    bucket = TokenBucket(rate=1, burst=1, clock=clock)
    assert takes(bucket, 3) == 1
    clock.now += 0.5  # half a token at the old rate
    bucket.set(rate=10, burst=10)
    clock.now += 0.5  # five more at the new one
    assert takes(bucket, 10) == 5


def test_a_bucket_turned_on_starts_full_and_one_turned_off_refuses_nothing():
    clock = Clock()
    bucket = TokenBucket(rate=0, burst=1, clock=clock)
    assert takes(bucket, 50) == 50
    bucket.set(rate=1, burst=3)
    assert takes(bucket, 5) == 3
    bucket.set(rate=0, burst=1)
    assert takes(bucket, 50) == 50


def test_the_account_s_quotas_change_for_every_bucket_at_once():
    clock = Clock()
    buckets = AccountBuckets(EmulatedQuotas(), clock=clock)
    assert takes(buckets.polly["neural"], 10) == 10
    buckets.update(EmulatedQuotas(polly_neural_tps=0.5, polly_neural_burst=1, transcribe_concurrent_streams=1))
    clock.now += 2.0
    assert takes(buckets.polly["neural"], 3) == 1
    assert takes(buckets.polly["standard"], 80) == 80  # unchanged: AWS's 80 a second
    assert buckets.transcribe_streams.limit == 1
    assert buckets.quotas.polly_neural_tps == 0.5
