"""Control broadcasts through the local platform: a slider moved quickly reaches listeners coalesced, ending on
its final value (the control queue's delayed follow-up, run by the SQS event source mapping)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from websockets.sync.client import ClientConnection, connect

from broadcast_tools import local_auth
from tests.support.deployment import emulator_client
from tests.support.frames import receive, send
from tests.support.running_platform import RunningPlatform
from tests.support.waiting import eventually

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(0.35)]

#: the deployed rate (session_limits.control_broadcasts_per_second's default)
RATE = 2
#: control messages one connection may send per second is 10: the speaker paces itself under it
SEND_INTERVAL = 0.11


@pytest.fixture(scope="module")
def stack(deployed_local):
    with RunningPlatform(deployed_local["endpoint"]) as running:
        yield running


@pytest.fixture(scope="module")
def control_queue(deployed_local) -> tuple[object, str]:
    sqs = emulator_client("sqs", deployed_local["endpoint"])
    return sqs, sqs.get_queue_url(QueueName="speech-broadcast-local-control")["QueueUrl"]


def states_until(ws, done, timeout: float = 30) -> list[dict]:
    """Every broadcastStateChanged's state up to the first for which ``done`` holds."""
    states: list[dict] = []
    while not states or not done(states[-1]):
        states.append(receive(ws, "broadcastStateChanged", timeout)["broadcastState"])
    return states


def settled(control_queue) -> None:
    """Wait until no follow-up is queued, delayed or in flight: nothing more can reach a listener."""
    sqs, url = control_queue
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
    ]
    eventually(
        lambda: (
            not any(int(v) for v in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"].values())
        ),
        timeout=30,
        interval=0.1,
        what="the control queue emptying",
    )


def remaining_states(ws, quiet: float = 1.0) -> list[dict]:
    """What else arrived once the queue settled (read until the socket stays quiet)."""
    states = []
    try:
        while True:
            message = json.loads(ws.recv(timeout=quiet))
            if message.get("type") == "broadcastStateChanged":
                states.append(message["broadcastState"])
    except TimeoutError:
        return states


@contextmanager
def speaker_with_listener(stack) -> Iterator[tuple[ClientConnection, ClientConnection]]:
    with (
        connect(f"{stack.url}?role=speaker&token={local_auth.token()}") as spk,
        connect(f"{stack.url}?role=listener") as lis,
    ):
        send(spk, action="createSession", sourceLanguage="en")
        session_id = receive(spk, "sessionCreated", 30)["sessionId"]
        send(lis, action="joinSession", sessionId=session_id, targetLanguage="es")
        receive(lis, "sessionJoined", 30)
        time.sleep(1)  # pace: the set-up messages' one-second rate window passes before the slider starts
        yield spk, lis


def test_volume_moved_twenty_times_quickly_reaches_the_listener_coalesced_and_ends_on_the_final_volume(
    stack, control_queue, record_property
):
    with speaker_with_listener(stack) as (spk, lis):
        volumes = [round(0.05 * step, 2) for step in range(1, 21)]
        started = time.monotonic()
        for volume in volumes:
            send(spk, action="setVolume", volume=volume)
            states_until(spk, lambda state, volume=volume: state["volume"] == volume)  # answered at once
            time.sleep(SEND_INTERVAL)  # pace under the connection's 10 control messages a second
        heard = states_until(lis, lambda state: state["volume"] == volumes[-1])
        elapsed = time.monotonic() - started
        settled(control_queue)
        heard += remaining_states(lis)
    record_property("changes", len(volumes))
    record_property("broadcasts_heard", len(heard))
    record_property("seconds", round(elapsed, 2))
    assert heard[-1]["volume"] == volumes[-1]
    # at most RATE a second, leading and trailing alike, however long the run took on a loaded machine
    assert len(heard) <= RATE * elapsed + 1, (len(heard), elapsed)
    # fewer than the changes; how many fewer is the machine's: two-process runs heard 7-8 in 4.5-6.3 s, and one that
    # took 9.0 s heard 10, half the changes, which this test once asserted it would stay under
    assert len(heard) < len(volumes), (len(heard), elapsed)


def test_pause_then_resume_quickly_ends_on_resumed(stack, control_queue):
    with speaker_with_listener(stack) as (spk, lis):
        send(spk, action="pauseBroadcast")
        states_until(spk, lambda state: state["isPaused"])
        send(spk, action="resumeBroadcast")
        states_until(spk, lambda state: not state["isPaused"])
        heard = states_until(lis, lambda state: not state["isPaused"])
        settled(control_queue)
        heard += remaining_states(lis)
    assert heard[-1]["isPaused"] is False
    assert len(heard) <= 2  # the pause at once (if its window was open), then the trailing resume
