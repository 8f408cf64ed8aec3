"""The deployment's capacity through the local platform: beyond it a talk is refused at ``createSession``.

The run's deployment gets a capacity of two talks at once (the ``create_session`` function's ``CAPACITY_PLAN`` set
through the Lambda API, as Terraform's ``measured_throughput_talks = 2`` would make it; set back afterwards), once
the talks earlier tests left to the sweep are ended (through the sessions repository, as the sweep would). Two
speakers create sessions; a third, and ``broadcast-speaker``, are refused with ``CAPACITY_REACHED`` and told so
plainly. One talk ends; a new one gets in and is streamed to a listener while another ``createSession`` is refused
mid-talk, and every final of it reaches the listener; the first talk still answers its speaker.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from websockets.sync.client import connect

from broadcast_shared.repositories.sessions import SessionsRepository
from broadcast_tools import local_auth
from broadcast_tools.speech import synthesize, write_wav
from tests.support.deployment import capacity_plan, emulator_options, set_capacity_plan
from tests.support.frames import receive, send
from tests.support.running_platform import RunningPlatform
from tests.support.talk import everything_arrived, stream_talk

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(0.3)]

CAPACITY = 2
REFUSAL = f"This deployment is carrying its maximum of {CAPACITY} talks; try again when one ends"


@pytest.fixture(scope="module")
def two_talks(deployed_local) -> Iterator[dict[str, Any]]:
    endpoint = deployed_local["endpoint"]
    sessions = SessionsRepository(
        boto3.resource("dynamodb", **emulator_options(endpoint)).Table("speech-broadcast-local-sessions"),
        "speech-broadcast-local-connections",
        86400,
    )
    for left in sessions.active(consistent=True):  # talks earlier tests of this process left to the sweep
        sessions.end(left.session_id, time.time(), "speakerDisconnected")
    assert sessions.active_talks() == 0
    plan = capacity_plan(endpoint)
    set_capacity_plan(endpoint, {**plan, "throughput_talks": CAPACITY})
    try:
        yield deployed_local
    finally:
        set_capacity_plan(endpoint, plan)


def speaker(url: str) -> Any:
    return connect(f"{url}?role=speaker&token={local_auth.token()}", max_size=2**20)


def create(ws: Any) -> dict[str, Any]:
    send(ws, action="createSession", sourceLanguage="en")
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=30))
        if message.get("type") in ("sessionCreated", "error"):
            return message


def test_beyond_the_capacity_a_talk_is_refused_and_the_admitted_ones_go_on(two_talks, tmp_path):
    wav = tmp_path / "hello.wav"
    write_wav(wav, synthesize("Hello everyone."))
    with RunningPlatform(two_talks["endpoint"], log_dir=tmp_path) as stack, speaker(stack.url) as first:
        assert create(first)["type"] == "sessionCreated"
        with speaker(stack.url) as second:
            assert create(second)["type"] == "sessionCreated"
            with speaker(stack.url) as third:
                refused = create(third)
            assert (refused["code"], refused["details"], refused["message"]) == (
                "CAPACITY_REACHED",
                {"maxConcurrentTalks": CAPACITY},
                REFUSAL,
            )
            cli = subprocess.run(
                [str(Path(sys.executable).parent / "broadcast-speaker"), "--url", stack.url, "--wav", str(wav)],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert cli.returncode == 1
            assert f"maximum of {CAPACITY} talks; try again when one ends (CAPACITY_REACHED)" in cli.stderr
            send(second, action="endSession")
            receive(second, "sessionEnded")

        refused_mid_talk: list[dict[str, Any]] = []

        def try_another(sequence: int) -> None:
            if sequence == 5:
                with speaker(stack.url) as late:
                    refused_mid_talk.append(create(late))

        audio = synthesize("Good morning everyone.")
        talk = stream_talk(stack.url, audio, listeners=("es",), during=try_another)
        assert talk.session_id  # the place the ended talk gave back
        assert [m["code"] for m in refused_mid_talk] == ["CAPACITY_REACHED"]
        assert not talk.errors
        assert everything_arrived(len(audio) / 32000, ("es",))(talk), "every final of the talk reached its listener"
        send(first, action="getSessionStatus")
        assert receive(first, "sessionStatus")["sessionId"]
