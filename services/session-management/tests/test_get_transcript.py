"""getTranscript: a listener reads its own session in its own language, the speaker any language of its session,
in the speaker's order, a page at a time under the message limit."""

from __future__ import annotations

import json

import boto3
import pytest

from broadcast_shared.repositories.transcripts import TranscriptEntry, TranscriptsRepository
from tests.support.tables import transcripts_table


@pytest.fixture
def transcripts(settings) -> TranscriptsRepository:
    return TranscriptsRepository(boto3.resource("dynamodb").Table(transcripts_table(settings)))


def keep(transcripts, session_id: str, language: str, *texts: str, start: float = 0.0) -> None:
    """Finals of ``language`` as the pipeline keeps them, given here out of order."""
    for index, text in reversed(list(enumerate(texts))):
        entry = TranscriptEntry(f"s0-u{index}", text, start + index * 2.5, start + index * 2.5 + 2.0, True)
        transcripts.record(session_id, language, entry, 1_800_000_000.0, 1_800_600_000)


def read_all(harness, connection_id: str, **fields) -> list[dict]:
    """Every page of a transcript, following nextToken; each page checked against the 128 KB message limit."""
    lines: list[dict] = []
    token = None
    for _ in range(100):
        request = {"action": "getTranscript", **fields} | ({"nextToken": token} if token else {})
        harness.send(connection_id, request)
        page = harness.last(connection_id, "transcriptPage")
        assert len(json.dumps(page, ensure_ascii=False).encode()) < 128 * 1024
        lines += page["segments"]
        token = page.get("nextToken")
        if token is None:
            return lines
    raise AssertionError("the pages never ended")


def test_a_late_listener_reads_the_talk_so_far_in_its_language_in_order(session, harness, transcripts):
    keep(transcripts, session, "es", "hola", "buenos días", "gracias")
    keep(transcripts, session, "fr", "bonjour")
    harness.send("l1", {"action": "getTranscript"})
    page = harness.last("l1", "transcriptPage")
    assert page == {
        "type": "transcriptPage",
        "sessionId": session,
        "language": "es",
        "segments": [
            {"segmentId": "s0-u0", "text": "hola", "startTime": 0.0, "endTime": 2.0, "translated": True},
            {"segmentId": "s0-u1", "text": "buenos días", "startTime": 2.5, "endTime": 4.5, "translated": True},
            {"segmentId": "s0-u2", "text": "gracias", "startTime": 5.0, "endTime": 7.0, "translated": True},
        ],
    }


def test_listener_cannot_read_another_language(session, harness, transcripts):
    keep(transcripts, session, "fr", "bonjour")
    harness.send("l1", {"action": "getTranscript", "language": "fr"})
    error = harness.last("l1", "error")
    assert error["code"] == "FORBIDDEN"
    assert harness.sink.messages("l1", "transcriptPage") == []


def test_listener_reads_only_its_own_session(session, harness, transcripts):
    keep(transcripts, session, "es", "hola")
    other = harness.speaker_with_session("spk-2")
    keep(transcripts, other, "es", "otra charla")
    harness.listener_in(other, "l3", "es")
    assert [line["text"] for line in read_all(harness, "l3")] == ["otra charla"]


def test_listener_reads_its_new_language_after_changing(session, harness, transcripts):
    keep(transcripts, session, "de", "guten Morgen")
    harness.send("l1", {"action": "changeLanguage", "targetLanguage": "de"})
    assert [line["text"] for line in read_all(harness, "l1")] == ["guten Morgen"]


def test_speaker_downloads_every_language_after_ending_the_session(session, harness, transcripts):
    keep(transcripts, session, "en", "good morning", "thank you")
    keep(transcripts, session, "fr", "bonjour", "merci")
    harness.send("spk", {"action": "endSession"})
    assert [line["text"] for line in read_all(harness, "spk")] == ["good morning", "thank you"]  # source by default
    assert [line["text"] for line in read_all(harness, "spk", language="fr")] == ["bonjour", "merci"]
    assert read_all(harness, "spk", language="ja") == []


def test_another_speaker_cannot_read_a_session_it_does_not_speak_in(session, harness):
    harness.connect("spk-2", "speaker", user_id="user-2")
    harness.send("spk-2", {"action": "getTranscript"})
    assert harness.last("spk-2", "error")["code"] == "NOT_IN_SESSION"


def test_a_connection_outside_a_session_is_told_to_join_first(harness):
    harness.connect("l9", "listener")
    harness.send("l9", {"action": "getTranscript"})
    assert harness.last("l9", "error")["code"] == "NOT_IN_SESSION"


def test_a_long_transcript_comes_in_pages_under_the_message_limit_each_final_once(session, harness, transcripts):
    texts = [f"{index} " + "語" * 399 for index in range(250)]  # 1.2 KB of UTF-8 each, 300 KB in all
    keep(transcripts, session, "es", *texts)
    lines = read_all(harness, "l1")
    assert [line["text"] for line in lines] == texts
    assert len(harness.sink.messages("l1", "transcriptPage")) >= 4


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"language": "xx"}, "UNSUPPORTED_LANGUAGE"),
        ({"nextToken": "not-a-token"}, "INVALID_MESSAGE"),
        ({"language": 3}, "INVALID_MESSAGE"),
        ({"extra": True}, "INVALID_MESSAGE"),
    ],
)
def test_malformed_requests_get_a_coded_error(session, harness, fields, code):
    harness.send("l1", {"action": "getTranscript", **fields})
    assert harness.last("l1", "error")["code"] == code
