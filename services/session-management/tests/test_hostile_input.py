"""Whatever a client sends, it gets a protocol message back, never a traceback, and state holds."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadcast_tools.platform_table import PlatformTable
from tests.support.messages import MESSAGE_MODELS

TABLE = PlatformTable.load()
# Every client action session-management serves, as platform.json declares them.
ACTIONS = [action for action in TABLE.actions if TABLE.route_function(action).artifact == "session-management"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
bodies = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda action, fields: json.dumps({"action": action, **fields}),
        st.sampled_from(ACTIONS),
        st.dictionaries(
            st.sampled_from(
                [
                    "sessionId",
                    "targetLanguage",
                    "sourceLanguage",
                    "qualityTier",
                    "volume",
                    "title",
                    "passcode",
                    "text",
                    "questionId",
                    "x",
                ]
            ),
            json_values,
            max_size=3,
        ),
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, role=st.sampled_from(["speaker", "listener"]))
def test_any_message_gets_a_protocol_answer(harness, body, role):
    connection = f"fuzz-{role}"
    if harness.runtime.connections.get(connection) is None:
        harness.connect(connection, role)
    harness.runtime.clock.advance(1)  # a new rate-limit window: every example is judged on its content
    before = len(harness.sink.messages(connection))
    try:
        route = json.loads(body).get("action")
    except (ValueError, AttributeError):
        route = None
    response = harness.send(connection, body, route_key=route if route in ACTIONS else "$default")
    assert response == {"statusCode": 200}
    answers = harness.sink.messages(connection)[before:]
    assert answers, "every message gets an answer"
    for answer in answers:
        assert answer["type"] in MESSAGE_MODELS
        MESSAGE_MODELS[answer["type"]].model_validate(answer)  # a server message, with its model's fields
        if answer["type"] == "error":
            assert answer["code"] != "INTERNAL_ERROR", answer
            assert "Traceback" not in answer["message"]


def codes(harness, connection: str) -> list[str]:
    return [m.get("code", m["type"]) for m in harness.sink.messages(connection)]


def test_a_flood_of_invalid_json_is_rate_limited_and_answered_once_per_second(harness):
    harness.connect("lst", "listener")
    for _ in range(150):  # one second: the manual clock does not move
        harness.send("lst", "{not json", route_key="$default")
    assert codes(harness, "lst") == ["INVALID_JSON"] * 10 + ["RATE_LIMITED"]


def test_every_kind_of_refused_message_counts_against_the_connections_rate_limit(harness):
    session_id = harness.speaker_with_session()
    harness.listener_in(session_id, "lst", "es")
    harness.runtime.clock.advance(1)
    before = len(harness.sink.messages("lst"))
    refused = [
        ("{not json", "$default"),  # INVALID_JSON
        ({"action": "joinSession", "sessionId": 42}, None),  # INVALID_MESSAGE
        ({"action": "pauseBroadcast"}, None),  # FORBIDDEN
        ({"action": "dance"}, "$default"),  # UNKNOWN_ACTION
        ({"action": "heartbeat", "pad": "x" * 20_000}, None),  # MESSAGE_TOO_LARGE
    ]
    for body, route in refused * 2:
        harness.send("lst", body, route_key=route)
    harness.send("lst", {"action": "heartbeat"})
    answers = [m.get("code", m["type"]) for m in harness.sink.messages("lst")[before:]]
    assert answers == [
        *["INVALID_JSON", "INVALID_MESSAGE", "FORBIDDEN", "UNKNOWN_ACTION", "MESSAGE_TOO_LARGE"] * 2,
        "RATE_LIMITED",
    ]


def test_one_source_flooding_from_many_connections_gets_no_more_answers_than_its_limit(harness):
    limit = harness.runtime.settings.source_rate_per_second
    attackers = [f"atk-{n}" for n in range(30)]
    for connection in attackers:
        harness.connect(connection, "listener")
    harness.connect("speaker-same-address", "speaker", user_id="user-1")
    harness.connect("elsewhere", "listener")
    for connection in attackers:
        for _ in range(9):  # under each connection's own limit: 270 from one address in one second
            harness.send(connection, {"action": "dance"}, route_key="$default")
    answered = sum(len(harness.sink.messages(c)) for c in attackers)
    assert answered == limit
    # Valid messages from the same address are still served; other addresses are not affected.
    harness.send("speaker-same-address", {"action": "createSession", "sourceLanguage": "en"})
    assert codes(harness, "speaker-same-address") == ["sessionCreated"]
    harness.send("elsewhere", {"action": "dance"}, route_key="$default", source_ip="198.51.100.9")
    assert codes(harness, "elsewhere") == ["UNKNOWN_ACTION"]


def test_an_unknown_action_is_echoed_short_whatever_its_size(harness):
    harness.connect("lst", "listener")
    harness.send("lst", json.dumps({"action": "x" * 12_000}), route_key="$default")
    harness.send("lst", json.dumps({"action": "y" * 70_000}), route_key="$default")
    unknown, too_large = harness.sink.messages("lst")
    assert unknown["code"] == "UNKNOWN_ACTION" and unknown["details"]["action"] == "x" * 64
    assert len(json.dumps(unknown)) < 512
    assert too_large["code"] == "MESSAGE_TOO_LARGE" and too_large["details"]["limit"] == 16 * 1024
    assert len(json.dumps(too_large)) < 512


@pytest.mark.parametrize(
    "body",
    [
        {"action": "setVolume", "volume": "0.5"},  # lax mode: a string taken for a number
        {"action": "setVolume", "volume": True},  # lax mode: true taken for 1.0
        {"action": "createSession", "sourceLanguage": "en", "qualityTier": 1},
        {"action": "joinSession", "sessionId": "golden-eagle-\u0664\u0662\u0667", "targetLanguage": "es"},
        {"action": "joinSession", "sessionId": "golden-eagle-\uff14\uff12\uff17", "targetLanguage": "es"},
        {"action": "joinSession", "sessionId": "golden-eagle-427", "targetLanguage": "es", "passcode": 12345},
        {"action": "joinSession", "sessionId": "golden-eagle-427", "targetLanguage": "es", "passcode": "\u0000\u00001"},
        {"action": "createSession", "sourceLanguage": "en", "title": 42},
    ],
)
def test_lax_values_are_invalid_messages_not_coerced(harness, body):
    role = "listener" if body["action"] == "joinSession" else "speaker"
    harness.connect("client", role, user_id="user-1" if role == "speaker" else None)
    if body["action"] == "setVolume":
        harness.send("client", {"action": "createSession", "sourceLanguage": "en"})
    harness.send("client", body)
    error = harness.last("client", "error")
    assert error["code"] == "INVALID_MESSAGE", error
    if body["action"] == "setVolume":
        assert harness.runtime.sessions.get(harness.last("client", "sessionCreated")["sessionId"]).volume == 1.0


def test_a_flood_of_questions_is_rate_limited_and_reaches_the_speaker_only_up_to_the_limit(harness):
    session_id = harness.speaker_with_session()
    harness.listener_in(session_id, "lst", "en")
    harness.runtime.clock.advance(1)
    before = len(harness.sink.messages("lst"))
    for _ in range(100):  # one second: the manual clock does not move
        harness.send("lst", {"action": "askQuestion", "text": "Why?"})
    limit = harness.runtime.settings.questions_per_connection_per_minute
    assert len(harness.sink.messages("spk", "question")) == limit
    answers = codes(harness, "lst")[before:]
    assert answers == ["questionReceived"] * limit + ["RATE_LIMITED"]  # refusals answered once a second


@pytest.mark.parametrize(
    "body",
    [
        {"action": "askQuestion", "text": "x" * 501},
        {"action": "askQuestion", "text": "\u0000" * 501},
        {"action": "askQuestion", "text": {"$ne": ""}},
        {"action": "askQuestion", "text": None},
        {"action": "askQuestion", "text": True},
    ],
)
def test_hostile_questions_are_refused_before_anyone_hears_them(harness, body):
    session_id = harness.speaker_with_session()
    harness.listener_in(session_id, "lst", "en")
    harness.send("lst", body)
    assert harness.last("lst", "error")["code"] == "INVALID_MESSAGE"
    assert not harness.sink.messages("spk", "question")


def test_a_question_far_over_the_size_limit_is_too_large(harness):
    session_id = harness.speaker_with_session()
    harness.listener_in(session_id, "lst", "en")
    harness.send("lst", {"action": "askQuestion", "text": "x" * 20_000})
    assert harness.last("lst", "error")["code"] == "MESSAGE_TOO_LARGE"
    assert not harness.sink.messages("spk", "question")
