"""muteBroadcast: the speaker mutes speech output; listeners cannot."""


def test_mute_is_persisted_and_reaches_everyone(harness, session):
    harness.send("spk", {"action": "muteBroadcast"})
    harness.assert_broadcast_state(session, {"isPaused": False, "isMuted": True, "volume": 1.0})


def test_listener_cannot_mute_broadcast(harness, session):
    harness.send("l1", {"action": "muteBroadcast"})
    assert harness.last("l1", "error")["code"] == "FORBIDDEN"
    assert not harness.runtime.sessions.get(session).is_muted
