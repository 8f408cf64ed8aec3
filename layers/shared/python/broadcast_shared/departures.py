"""What happens when a connection leaves, however we learn of it.

``$disconnect``, the idle sweep and any send that meets a gone connection (410) all
come here: a listener is taken off its session's counts, a speaker's session ends and
its listeners are told.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_lambda_powertools.metrics import MetricUnit

from broadcast_shared.clock import Clock
from broadcast_shared.messages.outbound import EndReason, SessionEnded, SpeakerReconnecting
from broadcast_shared.messages.wire import WireModel
from broadcast_shared.notifier import Notifier
from broadcast_shared.observability import logger, metrics
from broadcast_shared.repositories.connections import ConnectionsRepository
from broadcast_shared.repositories.records import Connection, Role, Session
from broadcast_shared.repositories.sessions import SessionsRepository


class Departures:
    def __init__(
        self,
        connections: ConnectionsRepository,
        sessions: SessionsRepository,
        notifier: Notifier,
        clock: Clock,
        speaker_grace_seconds: int = 0,
    ) -> None:
        self._connections = connections
        self._sessions = sessions
        self._notifier = notifier
        self._clock = clock
        self._grace = speaker_grace_seconds

    def connection_closed(self, connection_id: str) -> Connection | None:
        """Remove a connection that is gone; returns what was stored, if anything.

        A speaker's session is ended (or set waiting for the speaker) before its row is
        deleted: should anything fail in between, the row is still there for the next sweep.
        """
        connection = self._connections.get(connection_id)
        if connection is None:
            return None
        if connection.role is Role.LISTENER and connection.session_id and connection.target_language:
            if self._sessions.remove_listener(
                connection.session_id, connection.connection_id, connection.target_language, connection.captions
            ):
                return connection
        if connection.role is Role.SPEAKER and connection.session_id:
            self.speaker_gone(connection.session_id, connection_id)
        else:
            self._connections.delete(connection_id)
        return connection

    def connections_gone(self, connection_ids: Iterable[str]) -> None:
        for connection_id in connection_ids:
            self.connection_closed(connection_id)

    def speaker_gone(self, session_id: str, speaker_connection_id: str) -> None:
        """The speaker's connection is gone (or its row is), then its row is forgotten.

        When the session can be resumed (its speaker's ``sub`` is known and the grace period
        is not 0), it waits: listeners get ``speakerReconnecting`` and the sweep ends it once
        the grace period has passed. Otherwise it ends now. A connection the session has
        already moved away from (the speaker resumed elsewhere) changes nothing.
        """
        session = self._sessions.get(session_id)
        if session is not None and session.is_active and session.speaker_connection_id == speaker_connection_id:
            if self._grace > 0 and session.speaker_user_id:
                self._speaker_away(session)
            else:
                self.end_session(session_id, EndReason.SPEAKER_DISCONNECTED, None)
        self._connections.delete(speaker_connection_id)

    def _speaker_away(self, session: Session) -> None:
        now = self._clock.now()
        away = self._sessions.mark_speaker_away(session.session_id, session.speaker_connection_id, now)
        if away is None:
            return
        metrics.add_metric(name="SpeakersReconnecting", unit=MetricUnit.Count, value=1)
        logger.info("speaker away; waiting for them", extra={"session_id": session.session_id})
        message = SpeakerReconnecting(session_id=session.session_id, grace_seconds=self._grace, timestamp=now)
        self.tell_listeners(session.session_id, message)

    def grace_over(self, session: Session) -> bool:
        """Whether a session waiting for its speaker has waited the whole grace period."""
        away = session.speaker_away_since
        return away is not None and self._clock.now() - away >= self._grace

    def tell_listeners(self, session_id: str, message: WireModel) -> None:
        """Best effort: a listener found gone is removed; one that fails is logged by the notifier."""
        listeners = [listener.connection_id for listener in self._connections.listeners(session_id)]
        self.connections_gone(self._notifier.fan_out(listeners, message).gone)

    def end_session(self, session_id: str, reason: EndReason, speaker_connection_id: str | None) -> Session | None:
        """End a session once and tell everyone in it; None when it had ended already."""
        ended = self._sessions.end(session_id, self._clock.now(), reason.value)
        if ended is None:
            return None
        metrics.add_metric(name="SessionsEnded", unit=MetricUnit.Count, value=1)
        self.announce_end(ended, speaker_connection_id)
        return ended

    def announce_end(self, session: Session, speaker_connection_id: str | None = None) -> bool:
        """Tell an ended session's listeners (and the speaker, when given) that it ended.

        Only when every listener was reached (or is gone) is the end recorded as
        announced; until then the sweep calls this again, so a listener may get
        ``sessionEnded`` twice but never not at all. Returns whether it was announced.
        """
        reason = EndReason(session.end_reason or EndReason.SPEAKER_DISCONNECTED.value)
        message = SessionEnded(session_id=session.session_id, reason=reason, timestamp=session.ended_at or 0.0)
        listeners = [listener.connection_id for listener in self._connections.listeners(session.session_id)]
        recipients = listeners + ([speaker_connection_id] if speaker_connection_id else [])
        result = self._notifier.fan_out(recipients, message)
        logger.info(
            "session ended",
            extra={
                "session_id": session.session_id,
                "reason": reason.value,
                "listeners": len(listeners),
                "unreached": len(result.failed) + len(result.throttled),
            },
        )
        for gone in result.gone:
            if gone != speaker_connection_id:
                self.connection_closed(gone)
        if result.failed or result.throttled:
            return False
        self._sessions.mark_end_announced(session.session_id)
        return True
