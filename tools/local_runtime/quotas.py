"""The AWS account's request quotas, emulated where the local runtime stands in for a service (issue #21).

One :class:`EmulatedQuotas` per local platform: every session and every function environment of the
stack draws from the same buckets, as every session of a deployment draws from one account's quota.
Past a bucket, the stand-in answers as the service does (docs/ARCHITECTURE.md, "Throttling"):

=======================================  ========================  ===========================================
bucket                                   AWS default               answer past it
=======================================  ========================  ===========================================
Polly ``SynthesizeSpeech``, neural       8 TPS, burst 10           HTTP 400 ``ThrottlingException``
Polly ``SynthesizeSpeech``, standard     80 TPS                    HTTP 400 ``ThrottlingException``
Translate ``TranslateText``              none published            HTTP 400 ``ThrottlingException``
Management API ``@connections``          10,000 rps, burst 5,000   HTTP 429 ``LimitExceededException``
Transcribe streaming, concurrent streams  25 streams               HTTP 429 ``LimitExceededException``
=======================================  ========================  ===========================================

Sources: Polly's quota page (docs.aws.amazon.com/polly/latest/dg/limits.html), API Gateway's account-level
throttle (docs.aws.amazon.com/apigateway/latest/developerguide/limits.html), Transcribe's concurrent HTTP/2
streams (docs.aws.amazon.com/transcribe/latest/dg/limits-guidelines.html; the local recognisers take a slot per
stream, engines/local_quota.py); Amazon Translate publishes no
``TranslateText`` rate ("scales to serve customer operational traffic"), so its bucket is off unless set.
Every rate is settable (``LOCAL_QUOTA_POLLY_NEURAL_TPS``...; ``0`` turns a bucket off) so tests can lower them,
and :meth:`AccountBuckets.update` changes them while the platform serves, as Service Quotas changes a quota (the
talks benchmark lowers Polly's between two loads).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import ClassVar

from pydantic import Field

from broadcast_shared.config import EnvironmentSettings

#: where the local recognisers take a stream slot (local_runtime.stand_ins), on the local runtime's HTTP server
STREAMS_PATH = "/local/transcribe/streams"


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; thread safe. A rate of 0 never refuses."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()
        self._lock = threading.Lock()
        #: requests refused so far
        self.refused = 0

    def take(self) -> bool:
        """Spend one token; False (the request is throttled) when none is left."""
        if self.rate <= 0:
            return True
        with self._lock:
            self._refill()
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            self.refused += 1
            return False

    def set(self, rate: float, burst: float) -> None:
        """A new quota from now on (what was saved up is kept, up to the new burst), as Service Quotas changes one."""
        with self._lock:
            was_off = self.rate <= 0
            self._refill()
            self.rate = rate
            self.burst = max(burst, 1.0)
            # A bucket that was off refused nothing: it holds its full burst.
            self._tokens = self.burst if was_off else min(self._tokens, self.burst)

    def _refill(self) -> None:
        """What the rate has added since the last request, up to the burst. Called holding the lock."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now


class StreamSlots:
    """At most ``limit`` streams open at once; thread safe. A limit of 0 never refuses.

    A slot is given back when its stream ends; one its worker never gave back (a killed environment) is taken
    back after ``lease_seconds``, longer than any invocation (Lambda's 15 minutes)."""

    def __init__(self, limit: int, lease_seconds: float = 16 * 60, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._lease = lease_seconds
        self._clock = clock
        self._open: dict[str, float] = {}
        self._lock = threading.Lock()
        #: streams refused so far
        self.refused = 0

    def acquire(self) -> str | None:
        """A slot's id, or None (the stream is refused) when every slot is taken."""
        with self._lock:
            now = self._clock()
            self._open = {slot: at for slot, at in self._open.items() if now - at < self._lease}
            if self.limit > 0 and len(self._open) >= self.limit:
                self.refused += 1
                return None
            slot = uuid.uuid4().hex
            self._open[slot] = now
            return slot

    def release(self, slot: str) -> bool:
        with self._lock:
            return self._open.pop(slot, None) is not None

    @property
    def in_use(self) -> int:
        with self._lock:
            return len(self._open)


class EmulatedQuotas(EnvironmentSettings):
    """The emulated quotas, from ``LOCAL_QUOTA_*`` environment variables (AWS's defaults otherwise)."""

    env_prefix: ClassVar[str] = "LOCAL_QUOTA_"

    polly_neural_tps: float = Field(default=8.0, ge=0)
    polly_neural_burst: float = Field(default=10.0, ge=1)
    polly_standard_tps: float = Field(default=80.0, ge=0)
    polly_standard_burst: float = Field(default=100.0, ge=1)
    #: off by default: Amazon Translate publishes no TranslateText rate
    translate_tps: float = Field(default=0.0, ge=0)
    translate_burst: float = Field(default=1.0, ge=1)
    management_api_rps: float = Field(default=10_000.0, ge=0)
    management_api_burst: float = Field(default=5_000.0, ge=1)
    #: Transcribe streaming's concurrent streams (``account_quotas.transcribe_concurrent_streams``); 0: off
    transcribe_concurrent_streams: int = Field(default=25, ge=0)


class AccountBuckets:
    """The buckets of one emulated account, built from its :class:`EmulatedQuotas`."""

    def __init__(self, quotas: EmulatedQuotas, clock: Callable[[], float] = time.monotonic) -> None:
        # Every bucket made off, then given its quota (a bucket turned on starts full, as a new account's).
        self.polly = {"neural": TokenBucket(0, 1, clock), "standard": TokenBucket(0, 1, clock)}
        self.translate = TokenBucket(0, 1, clock)
        self.management_api = TokenBucket(0, 1, clock)
        self.transcribe_streams = StreamSlots(0, clock=clock)
        self.update(quotas)

    def update(self, quotas: EmulatedQuotas) -> None:
        """The account's quotas changed while it serves (a raised or lowered quota applies to the next request)."""
        self.quotas = quotas
        self.polly["neural"].set(quotas.polly_neural_tps, quotas.polly_neural_burst)
        self.polly["standard"].set(quotas.polly_standard_tps, quotas.polly_standard_burst)
        self.translate.set(quotas.translate_tps, quotas.translate_burst)
        self.management_api.set(quotas.management_api_rps, quotas.management_api_burst)
        self.transcribe_streams.limit = quotas.transcribe_concurrent_streams

    def refused(self) -> dict[str, int]:
        """Requests throttled so far, per bucket (what a benchmark reports)."""
        return {
            "polly-neural": self.polly["neural"].refused,
            "polly-standard": self.polly["standard"].refused,
            "translate": self.translate.refused,
            "management-api": self.management_api.refused,
            "transcribe-streams": self.transcribe_streams.refused,
        }
