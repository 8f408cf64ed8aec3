def test_end_session_tells_everyone_and_ends_it(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.listener_in(session_id, "l2", "fr")
    harness.send("spk", {"action": "endSession"})
    for connection in ("spk", "l1", "l2"):
        ended = harness.last(connection, "sessionEnded")
        assert ended["sessionId"] == session_id
        assert ended["reason"] == "speakerEnded"
    assert not harness.runtime.sessions.get(session_id).is_active


def test_actions_on_an_ended_session_are_refused(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.send("spk", {"action": "endSession"})
    harness.send("spk", {"action": "pauseBroadcast"})
    assert harness.last("spk", "error")["code"] == "SESSION_ENDED"
    harness.send("l1", {"action": "changeLanguage", "targetLanguage": "fr"})
    assert harness.last("l1", "error")["code"] == "SESSION_ENDED"


def test_listener_of_an_ended_session_can_join_another(harness):
    first = harness.speaker_with_session("spk1")
    harness.listener_in(first, "l1", "es")
    harness.send("spk1", {"action": "endSession"})
    second = harness.speaker_with_session("spk2")
    harness.send("l1", {"action": "joinSession", "sessionId": second, "targetLanguage": "fr"})
    assert harness.last("l1", "sessionJoined")["sessionId"] == second
