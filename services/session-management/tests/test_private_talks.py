"""Titled and private talks: ``createSession``'s title, presenter and passcode; ``joinSession`` and ``getTranscript``
of a private talk; the passcode kept only as a salted hash and never logged."""

from __future__ import annotations

import boto3
import pytest

from session_management.sessions import JOIN_FAILURES_ALLOWED, JOIN_FAILURES_WINDOW_SECONDS
from tests.support.events import SOURCE_IP
from tests.support.tables import transcripts_table

PASSCODE = "blue-harbour-42"
TITLE = "Harbour futures: ¿qué viene?"
PRESENTER = "Ana Núñez"


def private_talk(harness, connection_id: str = "spk", **fields) -> str:
    harness.connect(connection_id, "speaker", user_id="user-1")
    harness.send(
        connection_id,
        {"action": "createSession", "sourceLanguage": "en", "title": TITLE, "presenter": PRESENTER}
        | {"passcode": PASSCODE}
        | fields,
    )
    return harness.last(connection_id, "sessionCreated")["sessionId"]


def join(harness, connection_id: str, session_id: str, passcode: str | None = None, source_ip: str = SOURCE_IP):
    harness.connect(connection_id, "listener")
    harness.send(
        connection_id,
        {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es"}
        | ({"passcode": passcode} if passcode is not None else {}),
        source_ip=source_ip,
    )
    return harness.sink.messages(connection_id)[-1]


def raw_item(harness, session_id: str) -> dict:
    table = boto3.resource("dynamodb").Table(harness.runtime.settings.sessions_table)
    return table.get_item(Key={"sessionId": session_id})["Item"]


def test_a_titled_talk_tells_the_speaker_and_listeners_its_title_and_presenter(harness):
    harness.connect("spk", "speaker", user_id="user-1")
    harness.send(
        "spk", {"action": "createSession", "sourceLanguage": "en", "title": f"  {TITLE} ", "presenter": PRESENTER}
    )
    created = harness.last("spk", "sessionCreated")
    assert (created["title"], created["presenter"]) == (TITLE, PRESENTER)  # trimmed
    assert "private" not in created
    joined = join(harness, "l1", created["sessionId"])
    assert joined["type"] == "sessionJoined"
    assert (joined["title"], joined["presenter"]) == (TITLE, PRESENTER)


def test_an_untitled_talk_says_nothing_of_a_title(harness):
    session_id = harness.speaker_with_session("spk")
    assert {"title", "presenter", "private"}.isdisjoint(harness.last("spk", "sessionCreated"))
    assert {"title", "presenter"}.isdisjoint(join(harness, "l1", session_id))


def test_the_passcode_is_kept_only_as_a_salted_hash(harness):
    first = private_talk(harness, "spk-1")
    second = private_talk(harness, "spk-2")
    assert harness.last("spk-1", "sessionCreated")["private"] is True
    assert all(PASSCODE not in str(message) for message in harness.sink.messages("spk-1"))
    hashes = []
    for session_id in (first, second):
        item = raw_item(harness, session_id)
        assert PASSCODE not in str(item)
        scheme, _, _, _, salt, key = item["passcodeHash"].split("$")
        assert scheme == "scrypt" and len(salt) >= 22 and len(key) >= 43
        hashes.append(item["passcodeHash"])
    assert hashes[0] != hashes[1], "the same passcode hashes differently in two talks (a salt each)"
    assert "passcode" not in repr(harness.runtime.sessions.get(first)).lower()


def test_a_private_talk_refuses_a_missing_or_wrong_passcode_and_admits_the_right_one(harness):
    session_id = private_talk(harness)
    missing = join(harness, "l1", session_id)
    assert (missing["code"], missing["action"], missing["details"]) == (
        "PASSCODE_REQUIRED",
        "joinSession",
        {"sessionId": session_id},
    )
    wrong = join(harness, "l2", session_id, passcode=PASSCODE.upper())
    assert wrong["code"] == "PASSCODE_INCORRECT"
    assert PASSCODE.upper() not in str(wrong)
    assert harness.runtime.sessions.get(session_id).listener_count == 0
    assert harness.runtime.connections.get("l2").session_id is None
    right = join(harness, "l3", session_id, passcode=PASSCODE)
    assert right["type"] == "sessionJoined" and right["title"] == TITLE
    assert harness.runtime.sessions.get(session_id).listener_count == 1
    # The listener page sends the passcode to a public talk too (a link kept from another talk): no harm.
    public = harness.speaker_with_session("spk-public")
    assert join(harness, "l4", public, passcode=PASSCODE)["type"] == "sessionJoined"


def test_wrong_passcodes_lock_the_address_out_of_joining_as_unknown_ids_do(harness, clock):
    session_id = private_talk(harness)
    for n in range(JOIN_FAILURES_ALLOWED):
        clock.advance(1)
        assert join(harness, f"g{n}", session_id, passcode=f"guess-{n:04d}")["code"] == "PASSCODE_INCORRECT"
    locked = join(harness, "g-right", session_id, passcode=PASSCODE)
    assert locked["code"] == "RATE_LIMITED"
    assert locked["details"] == {"limitPerWindow": JOIN_FAILURES_ALLOWED, "windowSeconds": JOIN_FAILURES_WINDOW_SECONDS}
    # The same lockout: a guessed session id from that address is refused too, without being looked up.
    assert join(harness, "g-id", "calm-owl-bold-yak-1234")["code"] == "RATE_LIMITED"
    assert harness.runtime.sessions.get(session_id).listener_count == 0
    # Another address is not affected; this one joins again once the window is over.
    assert join(harness, "other", session_id, passcode=PASSCODE, source_ip="198.51.100.9")["type"] == "sessionJoined"
    clock.advance(JOIN_FAILURES_WINDOW_SECONDS)
    assert join(harness, "g-later", session_id, passcode=PASSCODE)["type"] == "sessionJoined"


def test_joins_without_a_passcode_do_not_count_towards_the_lockout(harness, clock):
    session_id = private_talk(harness)
    for n in range(JOIN_FAILURES_ALLOWED + 5):
        clock.advance(1)
        assert join(harness, f"q{n}", session_id)["code"] == "PASSCODE_REQUIRED"
    assert join(harness, "q-right", session_id, passcode=PASSCODE)["type"] == "sessionJoined"


def test_get_transcript_of_a_private_talk_is_read_only_by_listeners_admitted_with_its_passcode(harness):
    from broadcast_shared.repositories.transcripts import TranscriptEntry, TranscriptsRepository

    session_id = private_talk(harness)
    transcripts = TranscriptsRepository(boto3.resource("dynamodb").Table(transcripts_table(harness.runtime.settings)))
    transcripts.record(session_id, "es", TranscriptEntry("s0-u0", "hola", 0.0, 2.0, True), 1.8e9, 1_800_600_000)
    for connection, passcode in (("refused", "not-it"), ("asked", None)):
        join(harness, connection, session_id, passcode=passcode)
        harness.send(connection, {"action": "getTranscript"})
        assert harness.last(connection, "error")["code"] == "NOT_IN_SESSION"
        assert harness.sink.messages(connection, "transcriptPage") == []
    join(harness, "admitted", session_id, passcode=PASSCODE)
    harness.send("admitted", {"action": "getTranscript"})
    page = harness.last("admitted", "transcriptPage")
    assert [line["text"] for line in page["segments"]] == ["hola"]
    assert (page["title"], page["presenter"]) == (TITLE, PRESENTER)
    harness.send("spk", {"action": "getTranscript", "language": "es"})
    assert harness.last("spk", "transcriptPage")["title"] == TITLE


def test_resuming_a_private_talk_keeps_its_title_and_passcode(harness):
    session_id = private_talk(harness)
    harness.disconnect("spk")
    harness.connect("spk-again", "speaker", user_id="user-1")
    harness.send(
        "spk-again",
        {"action": "createSession", "sourceLanguage": "en", "sessionId": session_id}
        | {"title": "Another title", "passcode": "another-one"},
    )
    resumed = harness.last("spk-again", "sessionCreated")
    assert resumed["resumed"] is True and resumed["title"] == TITLE and resumed["private"] is True
    assert join(harness, "l1", session_id, passcode="another-one")["code"] == "PASSCODE_INCORRECT"
    assert join(harness, "l2", session_id, passcode=PASSCODE)["type"] == "sessionJoined"


def test_the_passcode_is_never_logged(harness, caplog, capsys, monkeypatch):
    """Every log record (message and structured keys, as Powertools writes them) and the metrics printed, with
    Powertools' event logging asked for in the environment (a route built now would log each event with it)."""
    from broadcast_shared.observability import logger
    from broadcast_shared.websocket import RouteHandler
    from session_management.handlers import join_session
    from tests.support.events import message_event

    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    original = join_session.handler
    joining = RouteHandler(
        original._function, original._model, original._roles, original._runtime, original._max_bytes, original._rate
    )
    level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        session_id = private_talk(harness)
        join(harness, "wrong", session_id, passcode="wrong-passcode-77")
        harness.connect("right", "listener")
        body = {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es", "passcode": PASSCODE}
        joining.using(harness.runtime)(message_event("right", body, None, SOURCE_IP), harness.context)
        assert harness.last("right", "sessionJoined")
        harness.connect("bad", "speaker", user_id="user-2")
        harness.send("bad", {"action": "createSession", "sourceLanguage": "en", "passcode": "x\u0007yz-secret"})
        assert harness.last("bad", "error")["code"] == "INVALID_MESSAGE"
    finally:
        logger.setLevel(level)
    logged = "\n".join(str(vars(record)) for record in caplog.records) + capsys.readouterr().out
    assert session_id in logged and "PASSCODE_INCORRECT" in logged, "the functions' log records are what is read"
    for secret in (PASSCODE, "wrong-passcode-77", "yz-secret"):
        assert secret not in logged


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"passcode": "abc"}, "passcode"),  # too short
        ({"passcode": "x" * 65}, "passcode"),
        ({"passcode": " padded "}, "passcode"),
        ({"passcode": 1234}, "passcode"),
        ({"title": "x" * 121}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "two\nlines"}, "title"),
        ({"title": "\u202eevil"}, "title"),  # a right-to-left override
        ({"presenter": "x" * 81}, "presenter"),
        ({"presenter": ["Ana"]}, "presenter"),
    ],
)
def test_bad_titles_presenters_and_passcodes_are_invalid_messages(harness, fields, field):
    harness.connect("spk", "speaker", user_id="user-1")
    harness.send("spk", {"action": "createSession", "sourceLanguage": "en"} | fields)
    error = harness.last("spk", "error")
    assert error["code"] == "INVALID_MESSAGE"
    assert [problem["field"] for problem in error["details"]["problems"]] == [field]
    assert not harness.sink.messages("spk", "sessionCreated")
