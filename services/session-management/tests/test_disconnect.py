def test_listener_leaving_updates_counts_and_speaker(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.listener_in(session_id, "l2", "es")
    harness.disconnect("l1")
    assert harness.runtime.connections.get("l1") is None
    session = harness.runtime.sessions.get(session_id)
    assert session.listener_count == 1 and session.language_counts["es"] == 1
    assert harness.last("spk", "listenerCountChanged")["listenerCount"] == 1


def test_speaker_leaving_ends_session_for_every_listener(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.listener_in(session_id, "l2", "fr")
    harness.disconnect("spk")
    for listener in ("l1", "l2"):
        ended = harness.last(listener, "sessionEnded")
        assert ended["reason"] == "speakerDisconnected"
    assert not harness.runtime.sessions.get(session_id).is_active
    assert harness.runtime.connections.get("spk") is None


def test_disconnect_twice_changes_counts_once(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.disconnect("l1")
    harness.disconnect("l1")
    assert harness.runtime.sessions.get(session_id).listener_count == 0


def test_unknown_connection_disconnect_is_harmless(harness):
    assert harness.disconnect("never-seen")["statusCode"] == 200
