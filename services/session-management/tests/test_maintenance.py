"""The schedules: publish-periodic-status and sweep-idle-connections."""

from session_management.handlers import publish_periodic_status, sweep_idle_connections
from tests.support.events import FakeLambdaContext

SCHEDULE_EVENT = {"schedule": "test"}


def test_periodic_status_reaches_every_active_speaker(harness):
    first = harness.speaker_with_session("spk1")
    harness.speaker_with_session("spk2")
    harness.listener_in(first, "l1", "es")
    result = publish_periodic_status.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert result == {"sent": 2}
    status = harness.last("spk1", "sessionStatus")
    assert status["updateReason"] == "periodic" and status["listenerCount"] == 1


def test_periodic_status_ends_sessions_whose_speaker_vanished(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.sink.close("spk")
    publish_periodic_status.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert not harness.runtime.sessions.get(session_id).is_active
    assert harness.last("l1", "sessionEnded")["reason"] == "speakerDisconnected"


def test_sweep_closes_idle_connections_and_updates_counts(harness, clock):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "idle", "es")
    harness.listener_in(session_id, "busy", "fr")
    clock.advance(590)
    harness.send("busy", {"action": "heartbeat"})
    harness.send("spk", {"action": "heartbeat"})
    clock.advance(20)
    result = sweep_idle_connections.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert result["closed_idle"] == 1
    assert harness.runtime.connections.get("idle") is None
    assert harness.sink.info("idle") is None, "the idle connection was closed through the Management API"
    assert harness.runtime.sessions.get(session_id).listener_count == 1


def test_sweep_warns_before_the_two_hour_limit_once(harness, clock):
    harness.connect("l1", "listener")
    for _ in range(12):  # stay active for 1h56m
        clock.advance(580)
        harness.send("l1", {"action": "heartbeat"})
    sweep_idle_connections.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    sweep_idle_connections.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    warnings = harness.sink.messages("l1", "connectionRefresh")
    assert len(warnings) == 1
    assert 0 < warnings[0]["secondsRemaining"] <= 300
