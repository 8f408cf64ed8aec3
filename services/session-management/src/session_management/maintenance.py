"""Work the schedules do: periodic status to every speaker, and the idle-connection sweep."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from aws_lambda_powertools.metrics import MetricUnit

from broadcast_shared.messages.outbound import ConnectionRefresh, EndReason, UpdateReason
from broadcast_shared.observability import logger, metrics
from broadcast_shared.repositories.records import Connection, Role, Session
from session_management.app import SessionRuntime
from session_management.reports import ReportService
from session_management.status import session_status

#: sessions a periodic run handles at once: a speaker slow to answer, or gone (whose departure costs several calls),
#: never holds back the other sessions' status
PERIODIC_CONCURRENCY = 16


@dataclass
class StatusResult:
    sent: int = 0
    failed: int = 0
    samples_failed: int = 0

    def add(self, other: StatusResult) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.samples_failed += other.samples_failed


def publish_periodic_status(runtime: SessionRuntime) -> StatusResult:
    """Send every active session's speaker a ``periodic`` status, and sample each active session's audience
    for its report (``session_management.reports``: one conditional write per session a minute).

    Sessions are handled ``PERIODIC_CONCURRENCY`` at a time. A session whose status cannot be sent (a throttled
    or failed call) is logged and counted (``PeriodicStatusFailed``; ``AudienceSamplesFailed`` for a sample); the
    run goes on with the others.
    """
    sessions = list(runtime.sessions.active())
    reports = ReportService(runtime)
    result = StatusResult()
    if sessions:
        workers = min(PERIODIC_CONCURRENCY, len(sessions))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="status") as pool:
            for outcome in pool.map(partial(_status_of, runtime, reports), sessions):
                result.add(outcome)
    metrics.add_metric(name="PeriodicStatusSent", unit=MetricUnit.Count, value=result.sent)
    metrics.add_metric(name="PeriodicStatusFailed", unit=MetricUnit.Count, value=result.failed)
    metrics.add_metric(name="AudienceSamplesFailed", unit=MetricUnit.Count, value=result.samples_failed)
    languages = sum(1 for session in sessions for count in session.language_counts.values() if count > 0)
    _measure_load(runtime, len(sessions), languages)
    return result


def _status_of(runtime: SessionRuntime, reports: ReportService, session: Session) -> StatusResult:
    """One session's part of a periodic run: its audience sample, then its speaker's status."""
    result = StatusResult()
    try:
        reports.sample(session)
    except Exception:
        logger.exception("audience not sampled", extra={"session_id": session.session_id})
        result.samples_failed += 1
    if session.speaker_away_since is not None:
        return result  # the speaker's connection is gone; they may yet resume
    try:
        if _publish_one(runtime, session):
            result.sent += 1
    except Exception:
        logger.exception("periodic status failed", extra={"session_id": session.session_id})
        result.failed += 1
    return result


def _measure_load(runtime: SessionRuntime, talks: int, languages: int) -> None:
    """The deployment's load against its capacity, as metrics (the capacity alarm watches ``CapacityUsedPercent``).

    Every active session counts (one waiting for its speaker too: it holds its place); its listened languages are
    those with a listener now."""
    load = runtime.capacity.load(talks, languages)
    metrics.add_metric(name="ActiveTalks", unit=MetricUnit.Count, value=load.active_talks)
    metrics.add_metric(name="ListenedLanguages", unit=MetricUnit.Count, value=load.listened_languages)
    metrics.add_metric(
        name="EstimatedSpeechCallsPerSecond", unit=MetricUnit.CountPerSecond, value=load.speech_calls_per_second
    )
    metrics.add_metric(name="SpeechQuotaUsedPercent", unit=MetricUnit.Percent, value=load.speech_quota_percent)
    metrics.add_metric(name="CapacityUsedPercent", unit=MetricUnit.Percent, value=load.capacity_percent)
    logger.info(
        "load against capacity",
        extra={**vars(load), "max_concurrent_talks": runtime.capacity.max_concurrent_talks},
    )


def _publish_one(runtime: SessionRuntime, session: Session) -> bool:
    status = session_status(session, UpdateReason.PERIODIC, runtime.clock.now(), runtime.prices)
    if not runtime.notifier.send(session.speaker_connection_id, status):
        runtime.departures.speaker_gone(session.session_id, session.speaker_connection_id)
        return False
    runtime.sessions.record_reported(
        session.session_id,
        session.reported_listener_count,
        status.listener_count,
        frozenset(status.language_distribution),
        runtime.clock.now(),
    )
    return True


@dataclass
class SweepResult:
    closed_idle: int = 0
    removed_gone: int = 0
    refresh_warnings: int = 0
    sessions_finished: int = 0
    failed: int = 0


def sweep_connections(runtime: SessionRuntime) -> SweepResult:
    """Close idle connections, forget vanished ones, warn those near the 2-hour limit, and
    finish sessions a failure left behind.

    One connection or session that cannot be handled (a throttled call, a Management API
    error) is logged and counted (``SweepFailures``); the sweep goes on with the rest, and
    the next sweep tries it again.
    """
    result = SweepResult()
    listening = _Listening(runtime)
    for connection in runtime.connections.all():
        try:
            _sweep_one(runtime, connection, result, listening)
        except Exception:
            logger.exception(
                "sweep could not handle a connection", extra={"target_connection_id": connection.connection_id}
            )
            result.failed += 1
    for session in runtime.sessions.needing_attention():
        try:
            _sweep_session(runtime, session, result)
        except Exception:
            logger.exception("sweep could not handle a session", extra={"session_id": session.session_id})
            result.failed += 1
    metrics.add_metric(name="IdleConnectionsClosed", unit=MetricUnit.Count, value=result.closed_idle)
    metrics.add_metric(name="GoneConnectionsRemoved", unit=MetricUnit.Count, value=result.removed_gone)
    metrics.add_metric(name="SweepFailures", unit=MetricUnit.Count, value=result.failed)
    metrics.add_metric(name="SessionsFinishedBySweep", unit=MetricUnit.Count, value=result.sessions_finished)
    logger.info("sweep finished", extra=vars(result))
    return result


def _sweep_session(runtime: SessionRuntime, session: Session, result: SweepResult) -> None:
    """End an active session whose speaker is gone; announce an end that did not reach everyone."""
    if not session.is_active:
        if runtime.departures.announce_end(session):
            result.sessions_finished += 1
        return
    if session.speaker_away_since is not None:
        if runtime.departures.grace_over(session):
            logger.info("speaker did not come back", extra={"session_id": session.session_id})
            runtime.departures.end_session(session.session_id, EndReason.SPEAKER_DISCONNECTED, None)
            result.sessions_finished += 1
        return
    speaker_id = session.speaker_connection_id
    speaker = runtime.connections.get(speaker_id)
    if speaker is not None and speaker.session_id != session.session_id:
        logger.warning("session's speaker has moved on", extra={"session_id": session.session_id})
        runtime.departures.end_session(session.session_id, EndReason.SPEAKER_DISCONNECTED, None)
    elif speaker is None or not runtime.notifier.is_connected(speaker_id):
        logger.warning("session's speaker is gone", extra={"session_id": session.session_id})
        runtime.departures.speaker_gone(session.session_id, speaker_id)
    else:
        return
    result.sessions_finished += 1


class _Listening:
    """Whether a connection is a listener joined to an active session (each session read once per sweep)."""

    def __init__(self, runtime: SessionRuntime) -> None:
        self._runtime = runtime
        self._active: dict[str, bool] = {}

    def __call__(self, connection: Connection) -> bool:
        session_id = connection.session_id
        if connection.role is not Role.LISTENER or not session_id or not connection.target_language:
            return False
        if session_id not in self._active:
            session = self._runtime.sessions.get(session_id)
            self._active[session_id] = session is not None and session.is_active
        return self._active[session_id]


def _sweep_one(runtime: SessionRuntime, connection: Connection, result: SweepResult, listening: _Listening) -> None:
    """A connection is idle when nothing was heard from it for the idle timeout, unless it is a
    listener of an active session: receiving captions is its activity, and a gone listener is
    removed by the next delivery that meets it (410) or when the session ends."""
    settings = runtime.settings
    now = runtime.clock.now()
    if now - connection.last_seen_at >= settings.idle_timeout_seconds and not listening(connection):
        if runtime.notifier.disconnect(connection.connection_id):
            result.closed_idle += 1
        else:
            result.removed_gone += 1
        # API Gateway also calls $disconnect, but only on a best-effort basis.
        runtime.departures.connection_closed(connection.connection_id)
        return
    remaining = settings.connection_max_age_seconds - (now - connection.connected_at)
    if remaining <= settings.connection_refresh_warning_seconds and not connection.refresh_warned:
        warning = ConnectionRefresh(
            seconds_remaining=max(int(remaining), 0),
            message="API Gateway closes connections after 2 hours; open a new one and rejoin (speakers: resume)",
        )
        if not runtime.notifier.send(connection.connection_id, warning):
            runtime.departures.connection_closed(connection.connection_id)
            result.removed_gone += 1
        elif runtime.connections.mark_refresh_warned(connection.connection_id):
            result.refresh_warnings += 1


@dataclass
class ReconcileResult:
    sessions: int = 0
    drifted: int = 0
    corrected: int = 0
    failed: int = 0
    #: whether the active-talks counter was set to the active sessions found
    talks_corrected: bool = False


def reconcile_counts(runtime: SessionRuntime) -> ReconcileResult:
    """Recount every active session's listeners from the index, and the active sessions createSession admits
    against; report and correct any drift.

    Drift is the sum over languages of the difference between a session's counters and
    its listeners in the ``by-session-language`` index (``ListenerCountDrift``, one value
    per drifted session). The correction is conditional on the counters not having moved
    since they were read, so a join or leave meanwhile wins and the next run looks again.
    The active-talks counter is read before a strongly consistent scan of the active
    sessions and corrected only if no create or end moved it meanwhile (``ActiveTalksDrift``).
    """
    result = ReconcileResult()
    counted_talks = runtime.sessions.active_talks()
    for session in runtime.sessions.active(consistent=True):
        result.sessions += 1
        try:
            _reconcile_one(runtime, session, result)
        except Exception:
            logger.exception("could not reconcile a session's counts", extra={"session_id": session.session_id})
            result.failed += 1
    try:
        _reconcile_talks(runtime, counted_talks, result)
    except Exception:
        logger.exception("could not reconcile the active talks counter")
        result.failed += 1
    metrics.add_metric(name="CountReconcileFailures", unit=MetricUnit.Count, value=result.failed)
    logger.info("counts reconciled", extra=vars(result))
    return result


def _reconcile_talks(runtime: SessionRuntime, counted: int, result: ReconcileResult) -> None:
    if counted == result.sessions:
        return
    metrics.add_metric(name="ActiveTalksDrift", unit=MetricUnit.Count, value=abs(counted - result.sessions))
    logger.warning("active talks counter drifted", extra={"counted": counted, "active_sessions": result.sessions})
    if runtime.sessions.correct_active_talks(counted, result.sessions):
        result.talks_corrected = True


def _reconcile_one(runtime: SessionRuntime, session: Session, result: ReconcileResult) -> None:
    recount: Counter[str] = Counter()
    captions: Counter[str] = Counter()
    for listener in runtime.connections.listeners(session.session_id):
        if listener.target_language:
            recount[listener.target_language] += 1
            if listener.captions:
                captions[listener.target_language] += 1
    counted = {language: count for language, count in session.language_counts.items() if count}
    languages = set(recount) | set(counted)
    drift = sum(abs(recount[language] - counted.get(language, 0)) for language in languages)
    drift = max(drift, abs(recount.total() - session.listener_count))
    if session.caption_counts is None:
        drift = max(drift, 1)  # a session from before caption counts: it gets them now
    else:
        shown = {language: count for language, count in session.caption_counts.items() if count}
        drift = max(
            drift, sum(abs(captions[language] - shown.get(language, 0)) for language in set(captions) | set(shown))
        )
    if drift == 0:
        return
    result.drifted += 1
    metrics.add_metric(name="ListenerCountDrift", unit=MetricUnit.Count, value=drift)
    logger.warning(
        "listener counts drifted",
        extra={
            "session_id": session.session_id,
            "listener_count": session.listener_count,
            "language_counts": session.language_counts,
            "caption_counts": session.caption_counts,
            "recount": dict(recount),
            "caption_recount": dict(captions),
        },
    )
    if runtime.sessions.correct_counts(session, recount.total(), dict(recount), dict(captions)):
        result.corrected += 1
