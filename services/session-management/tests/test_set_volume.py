"""setVolume: the speaker sets playback volume (0..1); listeners cannot."""

import pytest


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


def test_listener_cannot_set_volume(harness, session):
    harness.send("l1", {"action": "setVolume", "volume": 0.1})
    assert harness.last("l1", "error")["code"] == "FORBIDDEN"
    assert harness.runtime.sessions.get(session).volume == 1.0
