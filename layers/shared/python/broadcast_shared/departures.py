"""What happens when a connection leaves, however we learn of it.

``$disconnect``, the idle sweep and any send that meets a gone connection (410) all
come here: a listener is taken off its session's counts, a speaker's session ends and
its listeners are told.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_lambda_powertools.metrics import MetricUnit

from broadcast_shared.clock import Clock
from broadcast_shared.messages.outbound import EndReason, SessionEnded
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
    ) -> None:
        self._connections = connections
        self._sessions = sessions
        self._notifier = notifier
        self._clock = clock

    def connection_closed(self, connection_id: str) -> Connection | None:
        """Remove a connection that is gone; returns what was stored, if anything."""
        connection = self._connections.get(connection_id)
        if connection is None:
            return None
        if connection.role is Role.LISTENER and connection.session_id and connection.target_language:
            if self._sessions.remove_listener(
                connection.session_id, connection.connection_id, connection.target_language
            ):
                return connection
        self._connections.delete(connection_id)
        if connection.role is Role.SPEAKER and connection.session_id:
            self.end_session(connection.session_id, EndReason.SPEAKER_DISCONNECTED, None)
        return connection

    def connections_gone(self, connection_ids: Iterable[str]) -> None:
        for connection_id in connection_ids:
            self.connection_closed(connection_id)

    def end_session(self, session_id: str, reason: EndReason, speaker_connection_id: str | None) -> Session | None:
        """End a session once and tell everyone in it; None when it had ended already."""
        ended = self._sessions.end(session_id, self._clock.now())
        if ended is None:
            return None
        message = SessionEnded(session_id=session_id, reason=reason, timestamp=self._clock.now())
        listeners = [listener.connection_id for listener in self._connections.listeners(session_id)]
        recipients = listeners + ([speaker_connection_id] if speaker_connection_id else [])
        result = self._notifier.fan_out(recipients, message)
        metrics.add_metric(name="SessionsEnded", unit=MetricUnit.Count, value=1)
        logger.info(
            "session ended",
            extra={"session_id": session_id, "reason": reason.value, "listeners": len(listeners)},
        )
        for gone in result.gone:
            if gone != speaker_connection_id:
                self.connection_closed(gone)
        return ended
