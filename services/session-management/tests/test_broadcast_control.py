"""pauseBroadcast, resumeBroadcast, muteBroadcast, unmuteBroadcast, setVolume."""

import pytest


@pytest.fixture
def session(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.listener_in(session_id, "l2", "fr")
    return session_id


@pytest.mark.parametrize(
    ("actions", "state"),
    [
        (["pauseBroadcast"], {"isPaused": True, "isMuted": False, "volume": 1.0}),
        (["pauseBroadcast", "resumeBroadcast"], {"isPaused": False, "isMuted": False, "volume": 1.0}),
        (["muteBroadcast"], {"isPaused": False, "isMuted": True, "volume": 1.0}),
        (["muteBroadcast", "unmuteBroadcast"], {"isPaused": False, "isMuted": False, "volume": 1.0}),
    ],
)
def test_control_is_persisted_and_reaches_everyone(harness, session, actions, state):
    for action in actions:
        harness.send("spk", {"action": action})
    for connection in ("spk", "l1", "l2"):
        changed = harness.last(connection, "broadcastStateChanged")
        assert changed["broadcastState"] == state
        assert changed["sessionId"] == session
    stored = harness.runtime.sessions.get(session)
    assert (stored.is_paused, stored.is_muted) == (state["isPaused"], state["isMuted"])


def test_set_volume_is_persisted_and_reaches_listeners(harness, session):
    harness.send("spk", {"action": "setVolume", "volume": 0.25})
    assert harness.last("l1", "broadcastStateChanged")["broadcastState"]["volume"] == 0.25
    assert harness.runtime.sessions.get(session).volume == 0.25


@pytest.mark.parametrize("volume", [-0.1, 1.5, "loud", None])
def test_volume_out_of_range_is_refused_and_changes_nothing(harness, session, volume):
    harness.send("spk", {"action": "setVolume", "volume": volume})
    assert harness.last("spk", "error")["code"] == "INVALID_MESSAGE"
    assert harness.runtime.sessions.get(session).volume == 1.0
    assert not harness.sink.messages("l1", "broadcastStateChanged")


@pytest.mark.parametrize(
    "action", ["pauseBroadcast", "resumeBroadcast", "muteBroadcast", "unmuteBroadcast", "endSession"]
)
def test_listener_cannot_use_speaker_actions(harness, session, action):
    harness.send("l1", {"action": action})
    assert harness.last("l1", "error")["code"] == "FORBIDDEN"
    assert harness.runtime.sessions.get(session).is_active
    assert not harness.runtime.sessions.get(session).is_paused


def test_listener_cannot_set_volume(harness, session):
    harness.send("l1", {"action": "setVolume", "volume": 0.1})
    assert harness.last("l1", "error")["code"] == "FORBIDDEN"
    assert harness.runtime.sessions.get(session).volume == 1.0


def test_control_without_session_is_refused(harness):
    harness.connect("spk", "speaker")
    harness.send("spk", {"action": "pauseBroadcast"})
    assert harness.last("spk", "error")["code"] == "NOT_IN_SESSION"


def test_gone_listener_is_removed_during_fan_out(harness, session):
    harness.sink.close("l2")  # vanished without $disconnect
    harness.send("spk", {"action": "pauseBroadcast"})
    assert harness.runtime.connections.get("l2") is None
    assert harness.runtime.sessions.get(session).listener_count == 1
