"""Control broadcasts, coalesced: a volume slider must not send ten broadcasts a second to 5,000 listeners.

A session's broadcast state lives on its item; each change moves ``controlVersion`` on. The listeners are told
at most ``CONTROL_BROADCASTS_PER_SECOND`` times a second per session, fewer for a large audience (every broadcast
costs a Management API call per listener: at most ``CONTROL_CALLS_PER_SECOND`` a second per session), and always
end on the latest state:

- **Leading:** a change whose window is open (no broadcast within the last :meth:`ControlBroadcasts.interval`:
  1 / rate, or longer for a large audience) claims it with one
  conditional write (:meth:`SessionsRepository.claim_control_broadcast`) and goes out at once, to the speaker
  and every listener, carrying the state exactly as claimed.
- **Held back:** a change inside the window is answered to the speaker alone, and leaves ONE trailing broadcast
  behind: a conditional write marks it due at the window's end (``controlFollowUpAt``; only the first change of
  the window wins it) and a message goes on the control queue with ``DelaySeconds`` until then. Lambda cannot
  wait for it, SQS can.
- **Trailing:** ``publish_broadcast_state`` receives the message, clears the mark, then claims and sends the
  session's state as it is then (nothing if a broadcast already carried it); if the window is still closed (a
  leading change got in first) it schedules again. Clearing before claiming means a change made meanwhile either
  sees no mark and schedules its own follow-up, or is carried by this claim.

A follow-up that cannot be queued (SQS failing after botocore's retries) is not given up: the state goes out at
once, over the rate (``ControlFollowUpsFailed``). A mark whose follow-up never ran (the function failed every
attempt, the message is on the dead-letter queue) blocks new follow-ups for ``FOLLOW_UP_STALE_SECONDS`` at most.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from broadcast_shared.control_queue import FollowUpQueue
from broadcast_shared.messages.outbound import BroadcastStateChanged
from broadcast_shared.observability import logger, metrics
from broadcast_shared.repositories.records import Session
from session_management.status import broadcast_state

if TYPE_CHECKING:
    from session_management.app import SessionRuntime

#: a follow-up mark older than its due time by this much is taken as lost, and may be replaced
FOLLOW_UP_STALE_SECONDS = 60
#: SQS's longest DelaySeconds
MAX_DELAY_SECONDS = 900


class ControlBroadcasts:
    """Built once per environment, on first use, by the runtime (``SessionRuntime.control``)."""

    def __init__(self, runtime: SessionRuntime, queue: FollowUpQueue) -> None:
        self._settings = runtime.settings
        self._rt = runtime
        self._queue = queue

    def interval(self, listeners: int) -> float:
        """The shortest time between two broadcasts to a session with this many listeners (and its speaker)."""
        settings = self._settings
        return max(1 / settings.control_broadcasts_per_second, (listeners + 1) / settings.control_calls_per_second)

    def changed(self, session: Session) -> None:
        """A change to ``session``'s broadcast state was committed: tell everyone now, or the speaker now and the
        listeners at the end of the window."""
        if self.publish(session.session_id, session):
            return
        now = self._rt.clock.now()
        answer = BroadcastStateChanged(
            session_id=session.session_id, broadcast_state=broadcast_state(session), timestamp=now
        )
        if not self._rt.notifier.send(session.speaker_connection_id, answer):
            self._rt.departures.speaker_gone(session.session_id, session.speaker_connection_id)

    def follow_up(self, session_id: str) -> None:
        """The trailing broadcast of a window: whatever the session's state is now, unless already sent."""
        self._rt.sessions.clear_control_follow_up(session_id)
        self.publish(session_id)

    def publish(self, session_id: str, session: Session | None = None) -> bool:
        """Send the session's unsent state if its window is open, else leave one follow-up for the window's end;
        True when a broadcast went out. ``session``: the item as last read (after the change), if at hand."""
        session = session or self._rt.sessions.get(session_id)
        if session is None or not session.is_active:
            return False
        now = self._rt.clock.now()
        interval = self.interval(session.listener_count)
        claimed = self._rt.sessions.claim_control_broadcast(session_id, now, now - interval)
        if claimed is not None:
            self._broadcast(claimed, now)
            return True
        due = max(now, (session.control_sent_at or now) + interval)
        if not self._rt.sessions.schedule_control_follow_up(session_id, due, now - FOLLOW_UP_STALE_SECONDS):
            return False  # nothing unsent, or a follow-up is pending and will carry this change
        delay = min(MAX_DELAY_SECONDS, math.ceil(due - now))
        try:
            self._queue.send(session_id, delay)
        except Exception:
            logger.exception("control follow-up not queued; broadcasting at once", extra={"session_id": session_id})
            metrics.add_metric(name="ControlFollowUpsFailed", unit=MetricUnit.Count, value=1)
            self._rt.sessions.clear_control_follow_up(session_id)
            forced = self._rt.sessions.claim_control_broadcast(session_id, now, None)
            if forced is not None:
                self._broadcast(forced, now)
                return True
            return False
        metrics.add_metric(name="ControlBroadcastsDeferred", unit=MetricUnit.Count, value=1)
        return False

    def _broadcast(self, session: Session, now: float) -> None:
        message = BroadcastStateChanged(
            session_id=session.session_id, broadcast_state=broadcast_state(session), timestamp=now
        )
        listeners = [listener.connection_id for listener in self._rt.connections.listeners(session.session_id)]
        result = self._rt.notifier.fan_out([session.speaker_connection_id, *listeners], message)
        self._rt.departures.connections_gone(result.gone)
        metrics.add_metric(name="ControlBroadcastsSent", unit=MetricUnit.Count, value=1)
