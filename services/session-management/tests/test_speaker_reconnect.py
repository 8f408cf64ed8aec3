"""A speaker's network blip: the same speaker (same ``sub``) resumes the session within the grace period."""

from session_management.handlers import sweep_idle_connections
from tests.support.events import FakeLambdaContext


def sweep(harness):
    return sweep_idle_connections.handler.using(harness.runtime)({}, FakeLambdaContext())


def resume(harness, connection_id: str, session_id: str, user_id: str = "user-1") -> None:
    harness.connect(connection_id, "speaker", user_id=user_id)
    harness.send(connection_id, {"action": "createSession", "sourceLanguage": "en", "sessionId": session_id})


def test_speaker_who_reconnects_within_the_grace_period_resumes_the_same_session(harness, clock):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.disconnect("spk")
    reconnecting = harness.last("l1", "speakerReconnecting")
    assert reconnecting["sessionId"] == session_id and reconnecting["graceSeconds"] == 60
    clock.advance(30)
    sweep(harness)
    resume(harness, "spk-again", session_id)
    created = harness.last("spk-again", "sessionCreated")
    assert created["sessionId"] == session_id and created["resumed"] is True
    assert harness.last("l1", "speakerReconnected")["sessionId"] == session_id
    clock.advance(120)
    harness.send("spk-again", {"action": "heartbeat"})
    sweep(harness)
    session = harness.runtime.sessions.get(session_id)
    assert session.is_active and session.speaker_connection_id == "spk-again" and session.listener_count == 1
    assert harness.sink.messages("l1", "sessionEnded") == []
    harness.send("spk-again", {"action": "pauseBroadcast"})
    assert harness.last("l1", "broadcastStateChanged")["broadcastState"]["isPaused"] is True


def test_session_ends_when_the_grace_period_passes_without_the_speaker(harness, clock):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.disconnect("spk")
    clock.advance(59)
    sweep(harness)
    assert harness.sink.messages("l1", "sessionEnded") == []
    clock.advance(60)
    sweep(harness)
    assert harness.last("l1", "sessionEnded")["reason"] == "speakerDisconnected"
    resume(harness, "late", session_id)
    assert harness.last("late", "error")["code"] == "SESSION_ENDED"


def test_another_speaker_cannot_take_over_a_session(harness):
    session_id = harness.speaker_with_session("spk")
    harness.disconnect("spk")
    resume(harness, "intruder", session_id, user_id="user-2")
    assert harness.last("intruder", "error")["code"] == "FORBIDDEN"
    assert harness.runtime.sessions.get(session_id).speaker_connection_id == "spk"


def test_speaker_refreshes_its_connection_before_the_two_hour_limit(harness, clock):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    resume(harness, "spk-new", session_id)
    assert harness.last("spk-new", "sessionCreated")["sessionId"] == session_id
    harness.disconnect("spk")
    assert harness.sink.messages("l1", "speakerReconnecting") == []
    assert harness.sink.messages("l1", "sessionEnded") == []
    assert harness.runtime.sessions.get(session_id).speaker_connection_id == "spk-new"
    harness.send("spk-new", {"action": "endSession"})
    assert harness.last("l1", "sessionEnded")["reason"] == "speakerEnded"


def test_listeners_joining_while_the_speaker_is_away_are_counted_for_the_resumed_speaker(harness):
    session_id = harness.speaker_with_session("spk")
    harness.disconnect("spk")
    harness.listener_in(session_id, "l1", "fr")
    assert harness.sink.messages("l1", "error") == []
    resume(harness, "spk-again", session_id)
    harness.send("spk-again", {"action": "getSessionStatus"})
    status = harness.last("spk-again", "sessionStatus")
    assert status["listenerCount"] == 1 and status["languageDistribution"] == {"fr": 1}
