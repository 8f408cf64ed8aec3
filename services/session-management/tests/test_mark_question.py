"""markQuestion: the speaker marks an open question of its session answered or dismissed, once."""

import boto3
import pytest


def asked(harness, text="Why?"):
    harness.send("l1", {"action": "askQuestion", "text": text})
    return harness.last("spk", "question")["questionId"]


def status_of(harness, session_id, question_id):
    table = boto3.resource("dynamodb", region_name="eu-west-1").Table(harness.runtime.settings.questions_table)
    return table.get_item(Key={"sessionId": session_id, "questionId": question_id})["Item"]["status"]


@pytest.mark.parametrize("status", ["answered", "dismissed"])
def test_the_speaker_marks_a_question_and_is_told(asking, status):
    harness, session_id = asking
    question_id = asked(harness)
    harness.send("spk", {"action": "markQuestion", "questionId": question_id, "status": status})
    assert harness.last("spk", "questionMarked") == {
        "type": "questionMarked",
        "sessionId": session_id,
        "questionId": question_id,
        "status": status,
    }
    assert status_of(harness, session_id, question_id) == status
    assert not harness.sink.messages("l1", "questionMarked")


def test_a_question_is_marked_once(asking):
    harness, session_id = asking
    question_id = asked(harness)
    harness.send("spk", {"action": "markQuestion", "questionId": question_id, "status": "answered"})
    harness.send("spk", {"action": "markQuestion", "questionId": question_id, "status": "dismissed"})
    assert harness.last("spk", "error")["code"] == "QUESTION_NOT_FOUND"
    assert status_of(harness, session_id, question_id) == "answered"


def test_an_unknown_question_is_not_found(asking):
    harness, _ = asking
    harness.send("spk", {"action": "markQuestion", "questionId": "1800000000000-0badc0de", "status": "answered"})
    assert harness.last("spk", "error")["code"] == "QUESTION_NOT_FOUND"


def test_another_sessions_question_is_not_found(asking):
    harness, session_id = asking
    question_id = asked(harness)
    harness.speaker_with_session("spk2")
    harness.send("spk2", {"action": "markQuestion", "questionId": question_id, "status": "dismissed"})
    assert harness.last("spk2", "error")["code"] == "QUESTION_NOT_FOUND"
    assert status_of(harness, session_id, question_id) == "open"


@pytest.mark.parametrize(
    "body",
    [
        {"action": "markQuestion", "questionId": "1800000000000-0badc0de", "status": "open"},
        {"action": "markQuestion", "questionId": "../../x", "status": "answered"},
        {"action": "markQuestion", "questionId": 7, "status": "answered"},
    ],
)
def test_malformed_marks_are_invalid(asking, body):
    harness, _ = asking
    harness.send("spk", body)
    assert harness.last("spk", "error")["code"] == "INVALID_MESSAGE"


def test_a_listener_cannot_mark_questions(asking):
    harness, session_id = asking
    question_id = asked(harness)
    harness.send("l2", {"action": "markQuestion", "questionId": question_id, "status": "dismissed"})
    assert harness.last("l2", "error")["code"] == "FORBIDDEN"
    assert status_of(harness, session_id, question_id) == "open"
