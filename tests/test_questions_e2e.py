"""Questions through the deployed platform (Terraform into moto, the local gateway and runtime): the askQuestion
function runs with the environment and IAM Terraform gives it, translates with the local engine and reaches the
speaker alone."""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

from broadcast_tools import local_auth
from tests.support.frames import receive, send
from tests.support.running_platform import RunningPlatform

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(0.2)]

#: generous: the first message to each function cold-starts it
WAIT = 60


@pytest.fixture(scope="module")
def stack(deployed_local):
    with RunningPlatform(deployed_local["endpoint"]) as running:
        yield running


def test_a_french_question_reaches_the_speaker_in_english_and_not_the_spanish_listener(stack):
    with (
        connect(f"{stack.url}?role=speaker&token={local_auth.token()}") as spk,
        connect(f"{stack.url}?role=listener") as fr,
        connect(f"{stack.url}?role=listener") as es,
    ):
        send(spk, action="createSession", sourceLanguage="en")
        session_id = receive(spk, "sessionCreated", WAIT)["sessionId"]
        for ws, language in ((fr, "fr"), (es, "es")):
            send(ws, action="joinSession", sessionId=session_id, targetLanguage=language)
            receive(ws, "sessionJoined", WAIT)

        send(fr, action="askQuestion", text="Quand termine la conférence ?")
        question = receive(spk, "question", WAIT)
        assert receive(fr, "questionReceived", WAIT)["questionId"] == question["questionId"]
        assert question["language"] == "fr" and question["translated"] is True
        assert "conference" in question["translatedText"]

        send(spk, action="markQuestion", questionId=question["questionId"], status="answered")
        assert receive(spk, "questionMarked", WAIT)["status"] == "answered"

        # The Spanish listener heard nothing of it: everything it received until quiet.
        received = []
        try:
            while True:
                received.append(json.loads(es.recv(timeout=2)))
        except TimeoutError:
            pass
        assert not [m for m in received if m.get("type", "").startswith("question")], received
