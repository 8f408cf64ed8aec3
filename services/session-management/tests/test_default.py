"""$default and the checks every route shares: JSON, size, registration."""

import pytest


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not json", "INVALID_JSON"),
        ("[1, 2]", "INVALID_JSON"),
        ('{"no": "action"}', "INVALID_MESSAGE"),
        ('{"action": "launchRocket"}', "UNKNOWN_ACTION"),
    ],
)
def test_default_route_explains_what_is_wrong(harness, body, code):
    harness.connect("l1", "listener")
    harness.send("l1", body, route_key="$default")
    error = harness.last("l1", "error")
    assert error["code"] == code
    assert error["message"]


def test_oversize_message_is_refused_before_parsing(harness):
    harness.connect("l1", "listener")
    harness.send("l1", {"action": "heartbeat", "padding": "x" * 20_000})
    error = harness.last("l1", "error")
    assert error["code"] == "MESSAGE_TOO_LARGE"
    assert error["details"]["limit"] == 16 * 1024


def test_unregistered_connection_is_refused(harness):
    harness.sink.open("ghost")
    harness.send("ghost", {"action": "heartbeat"})
    assert harness.last("ghost", "error")["code"] == "FORBIDDEN"


def test_internal_failure_is_an_error_message_not_a_traceback(harness, monkeypatch):
    harness.connect("spk", "speaker")

    def explode(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(harness.runtime.sessions, "create", explode)
    response = harness.send("spk", {"action": "createSession", "sourceLanguage": "en"})
    assert response == {"statusCode": 200}
    error = harness.last("spk", "error")
    assert error["code"] == "INTERNAL_ERROR"
    assert "database on fire" not in error["message"]
