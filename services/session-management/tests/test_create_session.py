import re


def test_speaker_creates_session_with_readable_id(harness):
    session_id = harness.speaker_with_session("spk")
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{3}", session_id)
    created = harness.last("spk", "sessionCreated")
    assert created["sourceLanguage"] == "en"
    assert created["qualityTier"] == "standard"
    assert created["broadcastState"] == {"isPaused": False, "isMuted": False, "volume": 1.0}


def test_listener_cannot_create_session(harness):
    harness.connect("lis", "listener")
    harness.send("lis", {"action": "createSession", "sourceLanguage": "en"})
    error = harness.last("lis", "error")
    assert error["code"] == "FORBIDDEN"
