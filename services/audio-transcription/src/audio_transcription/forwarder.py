"""Segments to the translation pipeline, in the speaker's order, one ordered lane per session and language.

Each lane is a thread with its own queue that calls the pipeline **synchronously**
(``RequestResponse``) for one language at a time, so a language's segments reach its
listeners in the order the worker recognised them, whatever each one costs to
translate and speak. Lanes of one session run side by side: a slow language holds
back only itself.

- **Bounded wait, then skip:** an invoke that fails (botocore's retries spent, a
  function error retried once for a final, or no answer within ``wait_seconds`` per
  attempt) is logged and counted (``SegmentsSkipped`` by language; a final also as
  ``SegmentsForwardFailed``, the metric its alarm watches: a caption its listeners miss) and the
  lane goes on with the next segment: a lost segment never stalls the session.
- **Partials coalesce:** a partial still queued when anything newer arrives is dropped
  (``PartialsCoalesced``); at most ``partial_rate`` partials a second go out per lane,
  fewer when the audience is large (``partial_calls_per_second`` Management API calls a
  second for the listeners showing captions); a final never waits, and the next partial comes a whole
  interval after the last final or partial.
- The audience's languages come from the session item (``languageCounts``), re-read
  at most every ``audience_refresh_seconds``; a language nobody listens to gets no lane, except the
  source language, whose lane carries every final (listened to or not) so that the pipeline keeps the
  speaker's own transcript.
- **Partials only where captions are shown:** a partial goes only to the lanes of languages with a
  listener showing captions (``captionCounts``: ``joinSession`` ``captions``); a language whose listeners
  all listen only gets its finals and no partial is invoked, translated or sent for it. A captions
  listener who joins mid-talk is in the next partial after the next read of the session item
  (``audience_refresh_seconds``), as a new language is.
- Each invoke is counted by the cost meter for its session, language and segment kind.
- At a session's first audio the worker sends an asynchronous warm-up invoke per
  listened language (``warm_up``); it drains the lanes when it lets the session go (``drain``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config

from broadcast_shared.messages.segments import TranscriptSegment
from broadcast_shared.meter import scope as meter_scope
from broadcast_shared.observability import count_by, logger, metrics
from broadcast_shared.repositories.records import Session
from broadcast_shared.repositories.sessions import SessionsRepository
from broadcast_shared.warm_up import WarmUp, WarmUpInvoker

#: attempts per invoke for transport errors and throttling (botocore standard retries)
FORWARD_ATTEMPTS = 2
#: a final whose invoke ends in a function error is tried once more (the pipeline claims per language
#: on delivery, so a retry never sends a language twice)
FINAL_ATTEMPTS = 2


def forward_config(wait_seconds: float) -> Config:
    """The Lambda client's configuration: bounded retries; an answer within ``wait_seconds`` per attempt."""
    return Config(
        retries={"mode": "standard", "total_max_attempts": FORWARD_ATTEMPTS},
        connect_timeout=1,
        read_timeout=wait_seconds,
        max_pool_connections=64,
    )


@dataclass(frozen=True)
class ForwardingLimits:
    #: partial captions per second per language lane at most (``AudioSettings.partial_rate_per_second``)
    partial_rate: float = 0.6
    #: Management API calls per second that partials of one session may cost across its whole audience
    partial_calls_per_second: float = 2500.0
    #: how long the audience's languages and size are trusted before the session item is read again
    audience_refresh_seconds: float = 2.0
    #: how long letting a session go may wait for its lanes to empty
    drain_seconds: float = 20.0


class SegmentForwarder:
    def __init__(
        self,
        lambda_client: Any,
        function_name: str,
        sessions: SessionsRepository,
        limits: ForwardingLimits | None = None,
    ) -> None:
        self._lambda = lambda_client
        self._warm_ups = WarmUpInvoker(lambda_client)
        self._function = function_name
        self._sessions = sessions
        self.limits = limits or ForwardingLimits()
        self._lock = threading.Lock()
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._audience: dict[str, _Audience] = {}

    def forward(self, segment: TranscriptSegment) -> None:
        if not self._function:
            return
        audience = self._audience_of(segment.session_id)
        interval = self.partial_interval(audience.caption_listeners)
        if segment.is_partial:
            languages = [language for language in audience.languages if language in audience.caption_languages]
        elif segment.source_language in audience.languages:
            languages = audience.languages
        else:
            languages = [*audience.languages, segment.source_language]
        for language in languages:
            self._lane(segment.session_id, language).put(segment, interval)

    def warm_up(self, session_id: str, source_language: str) -> None:
        """An asynchronous warm-up invoke per listened language, at the session's first audio: by the first
        partial, a pipeline environment has its engines loaded for the pair. Asynchronous, so a slow cold start
        never holds a lane; a failure costs a cold first segment, nothing more."""
        if not self._function:
            return
        for language in self._audience_of(session_id).languages:
            self._warm_ups.send(self._function, WarmUp(source_language=source_language, target_language=language))

    def _lane(self, session_id: str, language: str) -> _Lane:
        with self._lock:
            lane = self._lanes.get((session_id, language))
            if lane is None:
                lane = self._lanes[(session_id, language)] = _Lane(self, session_id, language)
            return lane

    def partial_interval(self, listeners: int) -> float:
        """Seconds between a lane's partials: the configured rate, slower when the ``listeners`` showing captions
        would exceed the call budget (each gets every partial of its language)."""
        return max(1.0 / self.limits.partial_rate, listeners / self.limits.partial_calls_per_second)

    def drain(self, session_id: str) -> None:
        """Send what the session's lanes still hold (partials dropped), within ``drain_seconds``; stop them."""
        with self._lock:
            lanes = [lane for key, lane in self._lanes.items() if key[0] == session_id]
            for lane in lanes:
                del self._lanes[(session_id, lane.language)]
            self._audience.pop(session_id, None)
        deadline = time.monotonic() + self.limits.drain_seconds
        for lane in lanes:
            lane.close()
        for lane in lanes:
            left = lane.join(max(0.0, deadline - time.monotonic()))
            if left:
                logger.error(
                    "segments not forwarded before the worker let the session go",
                    extra={"session_id": session_id, "language": lane.language, "segments": left},
                )
                metrics.add_metric(name="SegmentsUnsentAtShutdown", unit=MetricUnit.Count, value=left)

    def _audience_of(self, session_id: str) -> _Audience:
        now = time.monotonic()
        with self._lock:
            known = self._audience.get(session_id)
        if known is not None and now - known.read_at < self.limits.audience_refresh_seconds:
            return known
        try:
            session = self._sessions.get(session_id)
        except Exception:  # noqa: BLE001 - DynamoDB failed after botocore's retries: keep the last audience
            logger.warning("could not read the session's audience", extra={"session_id": session_id})
            return known or _Audience(now, [], frozenset(), 0)
        audience = _Audience.of(session, now)
        with self._lock:
            self._audience[session_id] = audience
        return audience

    def invoke(self, segment: TranscriptSegment, language: str) -> bool:
        """One synchronous invoke of the pipeline for one language; False when it failed."""
        payload = segment.model_copy(update={"target_language": language}).model_dump_json(by_alias=True)
        attempts = 1 if segment.is_partial else FINAL_ATTEMPTS
        problem = ""
        kind = "partial" if segment.is_partial else "final"
        for _ in range(attempts):
            try:
                with meter_scope(segment.session_id, language, kind):
                    response = self._lambda.invoke(
                        FunctionName=self._function, InvocationType="RequestResponse", Payload=payload.encode()
                    )
            except Exception as exc:  # noqa: BLE001 - botocore's retries are spent (or the wait bound passed)
                problem = str(exc)
                break
            if "FunctionError" not in response:
                metrics.add_metric(name="SegmentsForwarded", unit=MetricUnit.Count, value=1)
                return True
            problem = response["Payload"].read().decode(errors="replace")[:500]
        logger.warning(
            "segment skipped: the translation pipeline did not deliver it",
            extra={"segment_id": segment.segment_id, "language": language, "error": problem},
        )
        count_by("SegmentsSkipped", language=language)
        if not segment.is_partial:
            metrics.add_metric(name="SegmentsForwardFailed", unit=MetricUnit.Count, value=1)
        return False


@dataclass(frozen=True)
class _Audience:
    """A session's audience as the worker last read it from the session item."""

    read_at: float
    #: the listened languages, sorted
    languages: list[str]
    #: those where a listener shows captions (the lanes partials go to)
    caption_languages: frozenset[str]
    #: listeners who get partials
    caption_listeners: int

    @classmethod
    def of(cls, session: Session | None, now: float) -> _Audience:
        if session is None:
            return cls(now, [], frozenset(), 0)
        languages = sorted(language for language, count in session.language_counts.items() if count > 0)
        if session.caption_counts is None:
            return cls(now, languages, frozenset(languages), session.listener_count)
        shown = session.caption_languages
        return cls(now, languages, shown, sum(session.caption_counts[language] for language in shown))


class _Lane:
    """One session's segments for one language, sent one at a time in the order they were put."""

    def __init__(self, forwarder: SegmentForwarder, session_id: str, language: str) -> None:
        self.language = language
        self._forwarder = forwarder
        self._queue: deque[TranscriptSegment] = deque()
        self._condition = threading.Condition()
        self._interval = 0.0
        self._last_sent = float("-inf")
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"lane-{session_id}-{language}", daemon=True)
        self._thread.start()

    def put(self, segment: TranscriptSegment, partial_interval: float) -> None:
        with self._condition:
            self._queue.append(segment)
            self._interval = partial_interval
            self._condition.notify()

    def close(self) -> None:
        with self._condition:
            self._closing = True
            self._condition.notify()

    def join(self, timeout: float) -> int:
        """Wait for the lane to finish; the number of segments it could not send in time."""
        self._thread.join(timeout)
        with self._condition:
            left = len(self._queue) if self._thread.is_alive() else 0
            self._queue.clear()
            self._closing = True
            self._condition.notify()
        return left

    def _run(self) -> None:
        while (segment := self._next()) is not None:
            self._forwarder.invoke(segment, self.language)

    def _next(self) -> TranscriptSegment | None:
        with self._condition:
            while True:
                coalesced = 0
                # A partial is worth sending only while nothing newer is waiting behind it.
                while self._queue and self._queue[0].is_partial and (len(self._queue) > 1 or self._closing):
                    self._queue.popleft()
                    coalesced += 1
                if coalesced:
                    metrics.add_metric(name="PartialsCoalesced", unit=MetricUnit.Count, value=coalesced)
                if not self._queue:
                    if self._closing:
                        return None
                    self._condition.wait()
                    continue
                head = self._queue[0]
                if head.is_partial:
                    due = self._last_sent + self._interval - time.monotonic()
                    if due > 0:
                        self._condition.wait(due)  # a newer partial or a final may replace it meanwhile
                        continue
                # A final goes at once; the next partial waits a whole interval after it (a final costs
                # as many calls as a partial).
                self._last_sent = time.monotonic()
                return self._queue.popleft()
