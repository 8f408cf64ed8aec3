"""When a refused recogniser stream is opened again: the Transcribe SDK's own exponential backoff.

Amazon Transcribe refuses a stream past the account's concurrent streams (``LimitExceededException``) and
asks for "an exponential backoff strategy". The SDK retries no event-stream operation itself (its request
body is a live stream), and the worker must not sleep (it serves every session of its shard), so the
worker keeps the schedule: each refusal sets when the next attempt is due, from the SDK's
``ExponentialRetryBackoffStrategy`` (equal jitter, capped), and the worker's own loop makes the attempt
once it is due. A stream that gives a result starts the schedule again from the first delay.

The SDK's retry module is imported at the first refusal, not with the worker: it is most of a refusal-free
invocation's cost of this module (about 10 ms of the cold start).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smithy_core.retries import ExponentialRetryBackoffStrategy


class StreamRetry:
    def __init__(self, base_seconds: float, max_backoff_seconds: float, rand: Callable[[], float] = random.random):
        self._base_seconds = base_seconds
        self._max_backoff_seconds = max_backoff_seconds
        self._rand = rand
        #: refusals since the stream last gave a result
        self.refusals = 0
        #: when the next attempt is due (clock seconds); None: no stream is waiting
        self.due_at: float | None = None

    @cached_property
    def _backoff(self) -> ExponentialRetryBackoffStrategy:
        from smithy_core.retries import ExponentialRetryBackoffStrategy

        return ExponentialRetryBackoffStrategy(
            backoff_scale_value=self._base_seconds, max_backoff=self._max_backoff_seconds, random=self._rand
        )

    @property
    def waiting(self) -> bool:
        return self.due_at is not None

    def refused(self, now: float) -> float:
        """Count a refusal and schedule the next attempt; the delay until it, seconds."""
        self.refusals += 1
        delay = self._backoff.compute_next_backoff_delay(self.refusals)
        self.due_at = now + delay
        return delay

    def due(self, now: float) -> bool:
        return self.due_at is not None and now >= self.due_at

    def attempting(self) -> None:
        """The attempt that was due is being made."""
        self.due_at = None

    def answered(self) -> None:
        """The stream gave a result: the quota let it in."""
        self.refusals = 0
        self.due_at = None
