"""boto3 clients built one way everywhere, from one boto3 session per process (each service's model, the
endpoint rules and defaults are parsed once, not once per client).

Retries use botocore's ``standard`` mode (exponential backoff with jitter, bounded
attempts). Every client counts its calls and their billable units (:mod:`broadcast_shared.meter`).
Endpoints follow boto3's own rules, so the standard ``AWS_ENDPOINT_URL``
(and ``AWS_ENDPOINT_URL_<SERVICE>``) points every client at an emulator.

A client may also keep its retries within a time budget (:func:`retry_within_deadline`): inside
``with deadline(at):``, botocore retries only while its longest backoff still ends before ``at``;
past that the call ends with :class:`RetriesOutOfBudget` (docs/ARCHITECTURE.md, "Throttling").
``deadline(at, retry_throttles=False)`` ends a throttled call at once, for a caller with somewhere else to go.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from broadcast_shared.meter import meter

DEFAULT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    max_pool_connections=64,
)


#: a boto3 session is not thread-safe: clients are made from the process's one session under this lock
_SESSION_LOCK = threading.Lock()


def client(service: str, *, endpoint_url: str | None = None, config: Config | None = None) -> Any:
    with _SESSION_LOCK:
        built = _session().client(service, endpoint_url=endpoint_url, config=DEFAULT_CONFIG.merge(config or Config()))
    return meter.attach(built)


def resource(service: str, *, config: Config | None = None) -> Any:
    with _SESSION_LOCK:
        built = _session().resource(service, config=DEFAULT_CONFIG.merge(config or Config()))
    meter.attach(built.meta.client)
    return built


@cache
def _session() -> boto3.session.Session:
    """The process's one boto3 session: each service's model, the endpoint rules and defaults parsed once."""
    return boto3.session.Session()


#: error codes AWS services answer when the account's request rate is exceeded (botocore's standard retry
#: mode retries these as throttles)
THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "LimitExceededException", "RequestLimitExceeded"}
)
#: botocore's standard mode: the n-th retry waits a random time up to ``2 ** (n - 1)`` seconds, capped at 20
STANDARD_MAX_BACKOFF_SECONDS = 20.0

_DEADLINE: ContextVar[tuple[float, bool] | None] = ContextVar("aws_retry_deadline", default=None)


class RetriesOutOfBudget(Exception):
    """A call failed and its next retry would have ended past the caller's deadline."""

    def __init__(self, code: str) -> None:
        super().__init__(f"{code or 'error'}: no time left in the budget for a retry")
        #: the AWS error code of the last attempt ("" for a connection error)
        self.code = code

    @property
    def throttled(self) -> bool:
        return self.code in THROTTLING_CODES


def is_throttling(error: ClientError | RetriesOutOfBudget) -> bool:
    if isinstance(error, RetriesOutOfBudget):
        return error.throttled
    return error.response.get("Error", {}).get("Code", "") in THROTTLING_CODES


@contextmanager
def deadline(at: float = math.inf, *, retry_throttles: bool = True) -> Iterator[None]:
    """Calls of clients made with :func:`retry_within_deadline` retry only while ``time.monotonic()`` can stay
    before ``at`` (on this thread; no time bound without one); with ``retry_throttles=False`` a throttled call is
    not retried at all (other errors still are, within ``at``)."""
    token = _DEADLINE.set((at, retry_throttles))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _stop_retrying_past_deadline(attempts: int, response: Any, caught_exception: Any, **_: Any) -> None:
    bound = _DEADLINE.get()
    if bound is None:
        return
    at, retry_throttles = bound
    http = response[0] if response else None
    if caught_exception is None and (http is None or http.status_code < 300):
        return  # a success: nothing to retry
    code = (response[1].get("Error", {}).get("Code", "") if response else "") or ""
    longest_backoff = min(2.0 ** (attempts - 1), STANDARD_MAX_BACKOFF_SECONDS)
    if time.monotonic() + longest_backoff > at or (not retry_throttles and code in THROTTLING_CODES):
        raise RetriesOutOfBudget(code)


def retry_within_deadline(built: Any) -> Any:
    """Make ``built``'s retries (botocore's, as configured) respect :func:`deadline`; returns it."""
    service = built.meta.service_model.service_id.hyphenize()
    built.meta.events.register_first(f"needs-retry.{service}", _stop_retrying_past_deadline)
    return built
