"""pauseBroadcast: the speaker pauses; everyone is told; listeners cannot."""


def test_pause_is_persisted_and_reaches_everyone(harness, session):
    harness.send("spk", {"action": "pauseBroadcast"})
    harness.assert_broadcast_state(session, {"isPaused": True, "isMuted": False, "volume": 1.0})


def test_listener_cannot_pause_broadcast(harness, session):
    harness.send("l1", {"action": "pauseBroadcast"})
    assert harness.last("l1", "error")["code"] == "FORBIDDEN"
    assert not harness.runtime.sessions.get(session).is_paused


def test_pause_without_session_is_refused(harness):
    harness.connect("spk", "speaker")
    harness.send("spk", {"action": "pauseBroadcast"})
    assert harness.last("spk", "error")["code"] == "NOT_IN_SESSION"


def test_gone_listener_is_removed_during_fan_out(harness, session):
    harness.sink.close("l2")  # vanished without $disconnect
    harness.send("spk", {"action": "pauseBroadcast"})
    assert harness.runtime.connections.get("l2") is None
    assert harness.runtime.sessions.get(session).listener_count == 1
