"""unmuteBroadcast: the speaker unmutes speech output; listeners cannot."""


def test_unmute_after_mute_is_persisted_and_reaches_everyone(harness, session, clock):
    harness.send("spk", {"action": "muteBroadcast"})
    clock.advance(1)  # past the session's control-broadcast window (the quick case: test_publish_broadcast_state)
    harness.send("spk", {"action": "unmuteBroadcast"})
    harness.assert_broadcast_state(session, {"isPaused": False, "isMuted": False, "volume": 1.0})


def test_listener_cannot_unmute_broadcast(harness, session):
    harness.send("spk", {"action": "muteBroadcast"})
    harness.send("l1", {"action": "unmuteBroadcast"})
    assert harness.last("l1", "error")["code"] == "FORBIDDEN"
    assert harness.runtime.sessions.get(session).is_muted
