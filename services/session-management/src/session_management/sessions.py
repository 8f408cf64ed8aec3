"""The session-management logic: every action a client can take, on injected repositories."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from broadcast_shared.errors import BroadcastError, ErrorCode
from broadcast_shared.messages.outbound import (
    EndReason,
    ListenerCountChanged,
    SpeakerReconnected,
    UpdateReason,
)
from broadcast_shared.observability import logger, metrics
from broadcast_shared.repositories.records import Connection, Session
from broadcast_shared.repositories.sessions import (
    CapacityReached,
    MembershipConflict,
    MembershipFailure,
    SessionIdTaken,
)
from session_management import passcodes
from session_management.app import SessionRuntime
from session_management.reports import ReportService
from session_management.session_ids import new_session_id
from session_management.status import session_status, triggered_reason

#: draws of a fresh id before giving up on a (vanishingly unlikely) run of collisions
SESSION_ID_ATTEMPTS = 5
#: a source (address; the connection when there is none) whose joins named no live session or gave a private
#: talk's wrong passcode this many times in one window is locked out of joining until the window ends:
#: enumeration and passcode guessing stop there
JOIN_FAILURES_ALLOWED = 30
JOIN_FAILURES_WINDOW_SECONDS = 600


class SessionService:
    def __init__(self, runtime: SessionRuntime) -> None:
        self._rt = runtime
        self._limits = runtime.settings

    # --- speaker -----------------------------------------------------------------
    def create(
        self,
        speaker: Connection,
        source_language: str,
        quality_tier: str,
        terminology: str | None = None,
        resume_session_id: str | None = None,
        *,
        title: str | None = None,
        presenter: str | None = None,
        passcode: str | None = None,
    ) -> Session:
        """A new session; with ``resume_session_id``, that session taken over (its title and passcode stand)."""
        if resume_session_id is not None:
            return self.resume(speaker, resume_session_id)
        previous = self._current_session(speaker)
        if previous is not None and previous.is_active:
            raise BroadcastError(
                ErrorCode.ALREADY_IN_SESSION,
                f"this connection already speaks in session {previous.session_id}; end it first",
                {"sessionId": previous.session_id},
            )
        if terminology is not None and terminology not in self._limits.allowed_terminologies:
            problem = "not a terminology of this deployment"
            raise BroadcastError(
                ErrorCode.INVALID_MESSAGE,
                f"terminology: {problem}",
                {"problems": [{"field": "terminology", "problem": problem}]},
            )
        capacity = self._rt.capacity.max_concurrent_talks
        if self._rt.sessions.active_talks() >= capacity:
            # refused before the speaker's hourly allowance is spent; the create's transaction is what holds
            raise _capacity_reached(capacity)
        allowed = self._limits.max_sessions_per_user_per_hour
        owner = speaker.user_id or speaker.connection_id
        if not self._rt.rate_limiter.try_acquire(f"sessions-of#{owner}", allowed, 3600, self._rt.clock.now()):
            raise BroadcastError(
                ErrorCode.RATE_LIMITED,
                f"a speaker may create {allowed} sessions per hour",
                {"limitPerWindow": allowed, "windowSeconds": 3600},
            )
        passcode_hash = passcodes.hash_passcode(passcode) if passcode is not None else None
        for _ in range(SESSION_ID_ATTEMPTS):
            try:
                session = self._rt.sessions.create(
                    new_session_id(),
                    speaker.connection_id,
                    speaker.session_id,
                    source_language,
                    quality_tier,
                    self._rt.clock.now(),
                    terminology,
                    speaker.user_id,
                    capacity,
                    title=title,
                    presenter=presenter,
                    passcode_hash=passcode_hash,
                )
            except CapacityReached as reached:
                raise _capacity_reached(capacity) from reached
            except SessionIdTaken:
                metrics.add_metric(name="SessionIdCollisions", unit=MetricUnit.Count, value=1)
                continue
            except MembershipConflict as conflict:
                raise BroadcastError(
                    ErrorCode.ALREADY_IN_SESSION, "this connection joined another session meanwhile"
                ) from conflict
            metrics.add_metric(name="SessionsCreated", unit=MetricUnit.Count, value=1)
            logger.info("session created", extra={"session_id": session.session_id, "private": session.is_private})
            return session
        raise BroadcastError(ErrorCode.INTERNAL_ERROR, "could not allocate a session id; try again")

    def resume(self, speaker: Connection, session_id: str) -> Session:
        """Take over an active session of the same speaker (same ``sub``) on this connection.

        For a speaker whose connection dropped (within the grace period) or who opens a new
        connection before the 2-hour limit; listeners waiting get ``speakerReconnected``.
        """
        session = self._existing_active(session_id)
        if not speaker.user_id or session.speaker_user_id != speaker.user_id:
            raise BroadcastError(ErrorCode.FORBIDDEN, "only the session's speaker may resume it")
        previous = self._current_session(speaker)
        if previous is not None and previous.is_active and previous.session_id != session_id:
            raise BroadcastError(
                ErrorCode.ALREADY_IN_SESSION,
                f"this connection already speaks in session {previous.session_id}; end it first",
                {"sessionId": previous.session_id},
            )
        if session.speaker_connection_id != speaker.connection_id:
            try:
                self._rt.sessions.resume(session, speaker.connection_id, speaker.session_id)
            except MembershipConflict as conflict:
                raise _membership_error(conflict, session_id) from conflict
        metrics.add_metric(name="SessionsResumed", unit=MetricUnit.Count, value=1)
        logger.info("session resumed", extra={"session_id": session_id})
        if session.speaker_away_since is not None:
            self._rt.departures.tell_listeners(
                session_id, SpeakerReconnected(session_id=session_id, timestamp=self._rt.clock.now())
            )
        return self._existing_active(session_id)

    def update_broadcast(self, speaker: Connection, **changes: bool | float) -> Session:
        session = self.owned_session(speaker)
        try:
            updated = self._rt.sessions.update_broadcast(session.session_id, **changes)
        except MembershipConflict as conflict:
            raise BroadcastError(ErrorCode.SESSION_ENDED, "the session has ended") from conflict
        self._rt.control.changed(updated)
        return updated

    def end(self, speaker: Connection) -> None:
        """End the speaker's session; everyone gets ``sessionEnded``, then the speaker its ``sessionReport``.

        The session has ended and been announced before the report is built, so a report that fails (a
        throttled read, say) is logged and counted (``SessionReportsFailed``), never an error for the speaker.
        """
        session = self.owned_session(speaker)
        ended = self._rt.departures.end_session(session.session_id, EndReason.SPEAKER_ENDED, speaker.connection_id)
        if ended is None:
            return
        try:
            ReportService(self._rt).finish(ended)
        except Exception:
            logger.exception("session report failed", extra={"session_id": session.session_id})
            metrics.add_metric(name="SessionReportsFailed", unit=MetricUnit.Count, value=1)

    def status(self, speaker: Connection, reason: UpdateReason = UpdateReason.REQUESTED) -> None:
        session = self.owned_session(speaker)
        self._rt.notifier.send(
            speaker.connection_id, session_status(session, reason, self._rt.clock.now(), self._rt.prices)
        )

    # --- listener ----------------------------------------------------------------
    def join(
        self,
        listener: Connection,
        session_id: str,
        target_language: str,
        source: str = "",
        passcode: str | None = None,
        captions: bool = True,
    ) -> Session:
        previous = self._current_session(listener)
        if previous is not None and previous.is_active:
            if (previous.session_id, listener.target_language, listener.captions) == (
                session_id,
                target_language,
                captions,
            ):
                # The same join again: its answer never came (the function timed out after joining, say) and the
                # client asks again. Answered again, counted once.
                metrics.add_metric(name="JoinsRepeated", unit=MetricUnit.Count, value=1)
                return previous
            raise BroadcastError(
                ErrorCode.ALREADY_IN_SESSION,
                f"already listening to {previous.session_id}; use changeLanguage or reconnect",
                {"sessionId": previous.session_id},
            )
        failures_key = f"join-failures#{source or listener.connection_id}"
        limiter, now = self._rt.rate_limiter, self._rt.clock.now()
        if limiter.exhausted(failures_key, JOIN_FAILURES_ALLOWED, JOIN_FAILURES_WINDOW_SECONDS, now):
            metrics.add_metric(name="JoinsLockedOut", unit=MetricUnit.Count, value=1)
            raise BroadcastError(
                ErrorCode.RATE_LIMITED,
                "too many joins of sessions that do not exist or with a wrong passcode; try again within"
                f" {JOIN_FAILURES_WINDOW_SECONDS // 60} minutes",
                {"limitPerWindow": JOIN_FAILURES_ALLOWED, "windowSeconds": JOIN_FAILURES_WINDOW_SECONDS},
            )
        session = self._rt.sessions.get(session_id)
        if session is None or not session.is_active:
            limiter.try_acquire(failures_key, JOIN_FAILURES_ALLOWED, JOIN_FAILURES_WINDOW_SECONDS, now)
            metrics.add_metric(name="JoinsOfUnknownSessions", unit=MetricUnit.Count, value=1)
            raise _no_live_session(session_id)
        if session.passcode_hash is not None:
            if passcode is None:
                raise BroadcastError(
                    ErrorCode.PASSCODE_REQUIRED,
                    "this talk is private: join with its passcode",
                    {"sessionId": session_id},
                )
            if not passcodes.matches(passcode, session.passcode_hash):
                limiter.try_acquire(failures_key, JOIN_FAILURES_ALLOWED, JOIN_FAILURES_WINDOW_SECONDS, now)
                metrics.add_metric(name="PasscodesRefused", unit=MetricUnit.Count, value=1)
                raise BroadcastError(
                    ErrorCode.PASSCODE_INCORRECT, "that is not this talk's passcode", {"sessionId": session_id}
                )
        try:
            self._rt.sessions.join(
                session_id,
                listener.connection_id,
                listener.session_id,
                target_language,
                self._limits.max_listeners_per_session,
                self._rt.clock.now(),
                captions,
            )
        except MembershipConflict as conflict:
            if conflict.reason is MembershipFailure.SESSION_NOT_ACTIVE:
                raise _no_live_session(session_id) from conflict
            raise _membership_error(conflict, session_id) from conflict
        metrics.add_metric(name="ListenersJoined", unit=MetricUnit.Count, value=1)
        self.audience_changed(session_id)
        return session

    def change_language(self, listener: Connection, target_language: str) -> str:
        """Move the listener to ``target_language``; the id of its session."""
        if not listener.session_id or not listener.target_language:
            raise BroadcastError(ErrorCode.NOT_IN_SESSION, "join a session before changing language")
        self._existing_active(listener.session_id)
        if listener.target_language == target_language:
            return listener.session_id
        try:
            self._rt.sessions.change_language(
                listener.session_id,
                listener.connection_id,
                listener.target_language,
                target_language,
                listener.captions,
            )
        except MembershipConflict as conflict:
            raise _membership_error(conflict, listener.session_id) from conflict
        self.audience_changed(listener.session_id)
        return listener.session_id

    # --- audience changes ----------------------------------------------------------
    def audience_changed(self, session_id: str) -> None:
        """Tell the speaker the new count, push a status when the audience moved enough, and sample the
        audience for the report.

        The audience change is committed before this runs, so a failure here (a throttled
        or failed Management API call) is logged and counted (``SpeakerUpdatesFailed``,
        ``AudienceSamplesFailed``), never raised: the caller's action stands, and the next
        periodic status brings the speaker and the samples up to date.
        """
        try:
            session = self._rt.sessions.get(session_id)
        except Exception:
            logger.exception("session not read after an audience change", extra={"session_id": session_id})
            metrics.add_metric(name="SpeakerUpdatesFailed", unit=MetricUnit.Count, value=1)
            return
        if session is None or not session.is_active:
            return
        try:
            self._tell_speaker(session)
        except Exception:
            logger.exception("speaker not told of an audience change", extra={"session_id": session_id})
            metrics.add_metric(name="SpeakerUpdatesFailed", unit=MetricUnit.Count, value=1)
        try:
            ReportService(self._rt).sample(session)
        except Exception:
            logger.exception("audience not sampled", extra={"session_id": session_id})
            metrics.add_metric(name="AudienceSamplesFailed", unit=MetricUnit.Count, value=1)

    def _tell_speaker(self, session: Session) -> None:
        if session.speaker_away_since is not None:
            return  # a speaker who is away hears the counts when they resume (getSessionStatus, periodic status)
        session_id = session.session_id
        speaker_id = session.speaker_connection_id
        delivered = self._rt.notifier.send(
            speaker_id, ListenerCountChanged(session_id=session_id, listener_count=session.listener_count)
        )
        if not delivered:
            self._rt.departures.speaker_gone(session_id, speaker_id)
            return
        reason = triggered_reason(session)
        if reason is None:
            return
        status = session_status(session, reason, self._rt.clock.now(), self._rt.prices)
        if self._rt.sessions.record_reported(
            session_id,
            session.reported_listener_count,
            status.listener_count,
            frozenset(status.language_distribution),
            self._rt.clock.now(),
        ):
            self._rt.notifier.send(speaker_id, status)

    # --- lookups -----------------------------------------------------------------
    def _current_session(self, connection: Connection) -> Session | None:
        return self._rt.sessions.get(connection.session_id) if connection.session_id else None

    def _existing_active(self, session_id: str) -> Session:
        session = self._rt.sessions.get(session_id)
        if session is None:
            raise BroadcastError(ErrorCode.SESSION_NOT_FOUND, f"no session {session_id}", {"sessionId": session_id})
        if not session.is_active:
            raise BroadcastError(ErrorCode.SESSION_ENDED, f"session {session_id} has ended", {"sessionId": session_id})
        return session

    def owned_session(self, speaker: Connection) -> Session:
        if not speaker.session_id:
            raise BroadcastError(ErrorCode.NOT_IN_SESSION, "create a session first")
        session = self._existing_active(speaker.session_id)
        if session.speaker_connection_id != speaker.connection_id:
            raise BroadcastError(ErrorCode.FORBIDDEN, "only the session's speaker may do this")
        return session


def _capacity_reached(capacity: int) -> BroadcastError:
    """A new talk beyond the deployment's capacity: refused before any audience joins (``docs/CAPACITY.md``)."""
    metrics.add_metric(name="SessionsRefusedAtCapacity", unit=MetricUnit.Count, value=1)
    return BroadcastError(
        ErrorCode.CAPACITY_REACHED,
        f"This deployment is carrying its maximum of {capacity} talks; try again when one ends",
        {"maxConcurrentTalks": capacity},
    )


def _no_live_session(session_id: str) -> BroadcastError:
    """One answer for an id never issued and one whose session ended: joins cannot tell them apart."""
    return BroadcastError(
        ErrorCode.SESSION_NOT_FOUND, f"no live session {session_id}; check the id", {"sessionId": session_id}
    )


def _membership_error(conflict: MembershipConflict, session_id: str) -> BroadcastError:
    if conflict.reason is MembershipFailure.SESSION_FULL:
        return BroadcastError(ErrorCode.SESSION_FULL, f"session {session_id} has no room for more listeners")
    if conflict.reason is MembershipFailure.SESSION_NOT_ACTIVE:
        return BroadcastError(ErrorCode.SESSION_ENDED, f"session {session_id} has ended")
    return BroadcastError(ErrorCode.ALREADY_IN_SESSION, "this connection changed session meanwhile")
