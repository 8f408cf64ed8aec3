"""setQuestions: the speaker closes and reopens the session to questions; everyone is told in broadcastState."""


def test_closing_questions_is_broadcast_and_reopening_clears_it(harness, session):
    harness.send("spk", {"action": "setQuestions", "open": False})
    for connection in ("spk", "l1", "l2"):
        assert harness.last(connection, "broadcastStateChanged")["broadcastState"]["questionsClosed"] is True
    assert harness.runtime.sessions.get(session).questions_closed is True
    harness.runtime.clock.advance(1)  # past the control-broadcast window
    harness.send("spk", {"action": "setQuestions", "open": True})
    assert "questionsClosed" not in harness.last("l1", "broadcastStateChanged")["broadcastState"]
    assert harness.runtime.sessions.get(session).questions_closed is False


def test_a_listener_joining_a_closed_session_is_told_in_session_joined(harness, session):
    harness.send("spk", {"action": "setQuestions", "open": False})
    harness.listener_in(session, "late", "es")
    assert harness.last("late", "sessionJoined")["broadcastState"]["questionsClosed"] is True


def test_a_listener_cannot_close_questions(harness, session):
    harness.send("l1", {"action": "setQuestions", "open": False})
    assert harness.last("l1", "error")["code"] == "FORBIDDEN"
    assert harness.runtime.sessions.get(session).questions_closed is False


def test_open_must_be_a_boolean(harness, session):
    harness.send("spk", {"action": "setQuestions", "open": "false"})
    assert harness.last("spk", "error")["code"] == "INVALID_MESSAGE"
    assert harness.runtime.sessions.get(session).questions_closed is False
