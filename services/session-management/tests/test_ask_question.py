"""askQuestion: a listener's question reaches the speaker alone, translated into the session's language."""

import boto3
import pytest


def stored(harness, session_id, question_id):
    table = boto3.resource("dynamodb", region_name="eu-west-1").Table(harness.runtime.settings.questions_table)
    return table.get_item(Key={"sessionId": session_id, "questionId": question_id}).get("Item")


def test_a_spanish_question_reaches_the_speaker_in_english_and_no_other_listener(asking):
    harness, session_id = asking
    harness.send("l1", {"action": "askQuestion", "text": "  ¿Puede repetir la última frase?  "})
    question = harness.last("spk", "question")
    assert question["sessionId"] == session_id
    assert question["language"] == "es"
    assert question["text"] == "¿Puede repetir la última frase?"
    assert question["translated"] is True
    assert "last sentence" in question["translatedText"]
    received = harness.last("l1", "questionReceived")
    assert received["questionId"] == question["questionId"]
    assert not harness.sink.messages("l2", "question")
    assert not harness.sink.messages("l2", "questionReceived")
    item = stored(harness, session_id, question["questionId"])
    assert item["status"] == "open" and item["askerConnectionId"] == "l1"
    assert item["translatedText"] == question["translatedText"]


def test_a_french_question_is_translated_into_english_through_spanish(asking):
    harness, _ = asking
    harness.send("l2", {"action": "askQuestion", "text": "Quand termine la conférence ?"})
    question = harness.last("spk", "question")
    assert question["language"] == "fr" and question["translated"] is True
    assert "conference" in question["translatedText"]


def test_a_pair_the_translator_lacks_reaches_the_speaker_untranslated(asking):
    harness, session_id = asking
    harness.listener_in(session_id, "l3", "de")  # apertium here has no German
    harness.send("l3", {"action": "askQuestion", "text": "Wo ist der Bahnhof?"})
    question = harness.last("spk", "question")
    assert question["translated"] is False
    assert question["translatedText"] == question["text"] == "Wo ist der Bahnhof?"


def test_a_question_in_the_talks_own_language_is_passed_on_as_is(asking):
    harness, session_id = asking
    harness.listener_in(session_id, "l4", "en")
    harness.send("l4", {"action": "askQuestion", "text": "Where is the station?"})
    question = harness.last("spk", "question")
    assert (question["translatedText"], question["translated"]) == ("Where is the station?", True)


def test_a_closed_session_refuses_questions_with_questions_closed(asking):
    harness, _ = asking
    harness.send("spk", {"action": "setQuestions", "open": False})
    harness.send("l1", {"action": "askQuestion", "text": "¿Hola?"})
    assert harness.last("l1", "error")["code"] == "QUESTIONS_CLOSED"
    assert not harness.sink.messages("spk", "question")


def test_questions_per_connection_are_limited_per_minute(asking):
    harness, _ = asking
    limit = harness.runtime.settings.questions_per_connection_per_minute
    for n in range(limit + 1):
        harness.runtime.clock.advance(1)  # a new per-second window each time: only the question limit counts
        harness.send("l1", {"action": "askQuestion", "text": f"Pregunta {n}"})
    assert len(harness.sink.messages("spk", "question")) == limit
    error = harness.last("l1", "error")
    assert error["code"] == "RATE_LIMITED"
    assert error["details"] == {"limit": limit, "windowSeconds": 60, "scope": "connection"}
    harness.runtime.clock.advance(60)
    harness.send("l1", {"action": "askQuestion", "text": "Otra"})
    assert len(harness.sink.messages("spk", "question")) == limit + 1


def test_questions_per_session_are_limited_whatever_the_connection(asking):
    harness, session_id = asking
    limit = harness.runtime.settings.questions_per_session_per_minute
    per_connection = harness.runtime.settings.questions_per_connection_per_minute
    askers = [f"a{n}" for n in range(limit // per_connection + 1)]
    for asker in askers:
        harness.listener_in(session_id, asker, "en")
        for _ in range(per_connection):
            harness.send(asker, {"action": "askQuestion", "text": "Why?"})
    assert len(harness.sink.messages("spk", "question")) == limit
    assert harness.last(askers[-1], "error")["details"]["scope"] == "session"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "askQuestion", "text": "x" * 501}, "INVALID_MESSAGE"),
        ({"action": "askQuestion", "text": "   "}, "INVALID_MESSAGE"),
        ({"action": "askQuestion", "text": 42}, "INVALID_MESSAGE"),
        ({"action": "askQuestion", "text": ["why"]}, "INVALID_MESSAGE"),
        ({"action": "askQuestion"}, "INVALID_MESSAGE"),
        ({"action": "askQuestion", "text": "why", "to": "l2"}, "INVALID_MESSAGE"),
    ],
)
def test_malformed_questions_are_refused_and_reach_nobody(asking, body, code):
    harness, _ = asking
    harness.send("l1", body)
    assert harness.last("l1", "error")["code"] == code
    assert not harness.sink.messages("spk", "question")


def test_500_characters_of_any_script_are_accepted(asking):
    harness, _ = asking
    harness.send("l1", {"action": "askQuestion", "text": "é" * 250 + "日" * 250})
    assert len(harness.last("spk", "question")["text"]) == 500


def test_a_speaker_cannot_ask(asking):
    harness, _ = asking
    harness.send("spk", {"action": "askQuestion", "text": "Any questions?"})
    assert harness.last("spk", "error")["code"] == "FORBIDDEN"


def test_a_listener_in_no_session_cannot_ask(asking):
    harness, _ = asking
    harness.connect("lonely", "listener")
    harness.send("lonely", {"action": "askQuestion", "text": "Hello?"})
    assert harness.last("lonely", "error")["code"] == "NOT_IN_SESSION"


def test_a_question_after_the_session_ended_is_refused(asking):
    harness, _ = asking
    harness.send("spk", {"action": "endSession"})
    harness.send("l1", {"action": "askQuestion", "text": "¿Y ahora?"})
    assert harness.last("l1", "error")["code"] in {"SESSION_ENDED", "NOT_IN_SESSION"}
    assert not harness.sink.messages("spk", "question")
