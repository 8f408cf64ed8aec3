def test_listener_changes_language_and_counts_follow(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.send("l1", {"action": "changeLanguage", "targetLanguage": "fr"})
    assert harness.last("l1", "languageChanged") == {
        "type": "languageChanged",
        "sessionId": session_id,
        "targetLanguage": "fr",
    }
    session = harness.runtime.sessions.get(session_id)
    assert session.listener_count == 1
    assert {k: v for k, v in session.language_counts.items() if v} == {"fr": 1}
    assert [c.connection_id for c in harness.runtime.connections.listeners(session_id, "fr")] == ["l1"]


def test_change_language_before_joining_is_refused(harness):
    harness.connect("l1", "listener")
    harness.send("l1", {"action": "changeLanguage", "targetLanguage": "fr"})
    assert harness.last("l1", "error")["code"] == "NOT_IN_SESSION"


def test_speaker_cannot_change_language(harness):
    harness.speaker_with_session("spk")
    harness.send("spk", {"action": "changeLanguage", "targetLanguage": "fr"})
    assert harness.last("spk", "error")["code"] == "FORBIDDEN"
