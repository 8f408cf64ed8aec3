import re

import pytest


def test_speaker_creates_session_with_readable_id(harness):
    session_id = harness.speaker_with_session("spk")
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{3}", session_id)
    created = harness.last("spk", "sessionCreated")
    assert created["sourceLanguage"] == "en"
    assert created["qualityTier"] == "standard"
    assert created["broadcastState"] == {"isPaused": False, "isMuted": False, "volume": 1.0}
    stored = harness.runtime.sessions.get(session_id)
    assert stored.speaker_connection_id == "spk" and stored.is_active


def test_premium_quality_tier_is_kept(harness):
    harness.connect("spk", "speaker")
    harness.send("spk", {"action": "createSession", "sourceLanguage": "de", "qualityTier": "premium"})
    assert harness.last("spk", "sessionCreated")["qualityTier"] == "premium"


def test_listener_cannot_create_session(harness):
    harness.connect("lis", "listener")
    harness.send("lis", {"action": "createSession", "sourceLanguage": "en"})
    error = harness.last("lis", "error")
    assert error["code"] == "FORBIDDEN"
    assert error["action"] == "createSession"


def test_speaker_cannot_hold_two_active_sessions(harness):
    first = harness.speaker_with_session("spk")
    harness.send("spk", {"action": "createSession", "sourceLanguage": "en"})
    error = harness.last("spk", "error")
    assert error["code"] == "ALREADY_IN_SESSION"
    assert error["details"]["sessionId"] == first


def test_speaker_can_create_a_new_session_after_ending_one(harness):
    first = harness.speaker_with_session("spk")
    harness.send("spk", {"action": "endSession"})
    harness.send("spk", {"action": "createSession", "sourceLanguage": "en"})
    second = harness.last("spk", "sessionCreated")["sessionId"]
    assert second != first


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "createSession"}, "INVALID_MESSAGE"),
        ({"action": "createSession", "sourceLanguage": "xx"}, "UNSUPPORTED_LANGUAGE"),
        ({"action": "createSession", "sourceLanguage": "en", "qualityTier": "gold"}, "INVALID_MESSAGE"),
        ({"action": "createSession", "sourceLanguage": "en", "extra": 1}, "INVALID_MESSAGE"),
        ({"action": "createSession", "sourceLanguage": 7}, "INVALID_MESSAGE"),
    ],
)
def test_bad_create_is_rejected_and_stores_nothing(harness, body, code):
    harness.connect("spk", "speaker")
    harness.send("spk", body, route_key="createSession")
    error = harness.last("spk", "error")
    assert error["code"] == code
    assert "Traceback" not in error["message"]
    assert harness.runtime.connections.get("spk").session_id is None


def test_session_id_collision_draws_another_id(harness, monkeypatch):
    """A taken id is retried with a fresh one (conditional write)."""
    from session_management import sessions

    taken = harness.speaker_with_session("spk1")
    ids = iter([taken, "quiet-otter-123"])
    monkeypatch.setattr(sessions, "new_session_id", lambda: next(ids))
    harness.connect("spk2", "speaker")
    harness.send("spk2", {"action": "createSession", "sourceLanguage": "en"})
    assert harness.last("spk2", "sessionCreated")["sessionId"] == "quiet-otter-123"
    assert harness.runtime.sessions.get(taken).speaker_connection_id == "spk1"


def test_a_session_may_name_a_custom_terminology_for_its_translations(harness, runtime):
    harness.connect("spk", "speaker", user_id="user-1")
    harness.send("spk", {"action": "createSession", "sourceLanguage": "en", "terminology": "acme-product-names"})
    created = harness.last("spk", "sessionCreated")
    assert created["terminology"] == "acme-product-names"
    assert runtime.sessions.get(created["sessionId"]).terminology == "acme-product-names"


def test_a_terminology_name_translate_would_refuse_is_refused_here(harness):
    harness.connect("spk", "speaker", user_id="user-1")
    harness.send("spk", {"action": "createSession", "sourceLanguage": "en", "terminology": "no spaces/or slashes"})
    assert harness.last("spk", "error")["code"] == "INVALID_MESSAGE"
