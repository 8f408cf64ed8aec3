"""resumeBroadcast: the speaker resumes a paused broadcast; listeners cannot."""


def test_resume_after_pause_is_persisted_and_reaches_everyone(harness, session, clock):
    harness.send("spk", {"action": "pauseBroadcast"})
    clock.advance(1)  # past the session's control-broadcast window (the quick case: test_publish_broadcast_state)
    harness.send("spk", {"action": "resumeBroadcast"})
    harness.assert_broadcast_state(session, {"isPaused": False, "isMuted": False, "volume": 1.0})


def test_listener_cannot_resume_broadcast(harness, session):
    harness.send("spk", {"action": "pauseBroadcast"})
    harness.send("l1", {"action": "resumeBroadcast"})
    assert harness.last("l1", "error")["code"] == "FORBIDDEN"
    assert harness.runtime.sessions.get(session).is_paused
