"""The AWS account's request quotas, emulated where the local runtime stands in for a service (issue #21).

One :class:`AccountQuotas` per local platform: every session and every function environment of the
stack draws from the same buckets, as every session of a deployment draws from one account's quota.
Past a bucket, the stand-in answers as the service does (docs/ARCHITECTURE.md, "Throttling"):

=======================================  ========================  ===========================================
bucket                                   AWS default               answer past it
=======================================  ========================  ===========================================
Polly ``SynthesizeSpeech``, neural       8 TPS, burst 10           HTTP 400 ``ThrottlingException``
Polly ``SynthesizeSpeech``, standard     80 TPS                    HTTP 400 ``ThrottlingException``
Translate ``TranslateText``              none published            HTTP 400 ``ThrottlingException``
Management API ``@connections``          10,000 rps, burst 5,000   HTTP 429 ``LimitExceededException``
=======================================  ========================  ===========================================

Sources: Polly's quota page (docs.aws.amazon.com/polly/latest/dg/limits.html), API Gateway's account-level
throttle (docs.aws.amazon.com/apigateway/latest/developerguide/limits.html); Amazon Translate publishes no
``TranslateText`` rate ("scales to serve customer operational traffic"), so its bucket is off unless set.
Every rate is settable (``LOCAL_QUOTA_POLLY_NEURAL_TPS``...; ``0`` turns a bucket off) so tests can lower them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            self.refused += 1
            return False


class AccountQuotas(BaseSettings):
    """The emulated quotas, from ``LOCAL_QUOTA_*`` environment variables (AWS's defaults otherwise)."""

    model_config = SettingsConfigDict(env_prefix="LOCAL_QUOTA_", frozen=True, extra="ignore")

    polly_neural_tps: float = Field(default=8.0, ge=0)
    polly_neural_burst: float = Field(default=10.0, ge=1)
    polly_standard_tps: float = Field(default=80.0, ge=0)
    polly_standard_burst: float = Field(default=80.0, ge=1)
    #: off by default: Amazon Translate publishes no TranslateText rate
    translate_tps: float = Field(default=0.0, ge=0)
    translate_burst: float = Field(default=1.0, ge=1)
    management_api_rps: float = Field(default=10_000.0, ge=0)
    management_api_burst: float = Field(default=5_000.0, ge=1)


class AccountBuckets:
    """The buckets of one emulated account, built from its :class:`AccountQuotas`."""

    def __init__(self, quotas: AccountQuotas, clock: Callable[[], float] = time.monotonic) -> None:
        self.quotas = quotas
        self.polly = {
            "neural": TokenBucket(quotas.polly_neural_tps, quotas.polly_neural_burst, clock),
            "standard": TokenBucket(quotas.polly_standard_tps, quotas.polly_standard_burst, clock),
        }
        self.translate = TokenBucket(quotas.translate_tps, quotas.translate_burst, clock)
        self.management_api = TokenBucket(quotas.management_api_rps, quotas.management_api_burst, clock)

    def refused(self) -> dict[str, int]:
        """Requests throttled so far, per bucket (what a benchmark reports)."""
        return {
            "polly-neural": self.polly["neural"].refused,
            "polly-standard": self.polly["standard"].refused,
            "translate": self.translate.refused,
            "management-api": self.management_api.refused,
        }
