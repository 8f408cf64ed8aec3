"""The command-line clients through the deployed local platform, with the gateway's idle timeout shortened.

``broadcast-speaker`` streams a 40-second talk (taking over the session another one created, once both
listeners joined); two ``broadcast-listener`` processes follow it in Spanish, all
three sending heartbeats every 5 s while the gateway closes a connection after 20 silent seconds (API
Gateway: 10 minutes). One listener is left alone; the other's connection is deleted from the gateway side
(the Management API's DeleteConnection) after its first final caption, and it rejoins.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from broadcast_tools import local_auth
from broadcast_tools.speech import TALK, synthesize, write_wav
from tests.support.deployment import emulator_client
from tests.support.running_platform import RunningPlatform

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(1.5)]

#: well above a function's 10 s timeout: a client's heartbeats start once its join or create is answered
IDLE_TIMEOUT = 20.0
HEARTBEAT = "5"
WAIT = 300


class Client:
    """A command-line client as a person runs it; its output read line by line as it comes."""

    def __init__(self, command: str, *args: str, stdin: int = subprocess.DEVNULL) -> None:
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / command), *args],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.stdout, True), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, into: list[str], announce: bool) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))
            if announce:
                self.lines.put(line)

    def next_line(self, wanted) -> str:
        while True:
            line = self.lines.get(timeout=WAIT)
            if wanted(line):
                return line

    def quit(self) -> None:
        """The speaker's ``quit`` command: it leaves without ending the session."""
        assert self.process.stdin is not None
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()

    def finish(self) -> int:
        code = self.process.wait(timeout=WAIT)
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def messages(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout if line.startswith("{")]


def is_final(line: str) -> bool:
    return '"translation"' in line and '"isPartial": false' in line


@dataclass
class Broadcast:
    steady: list[dict] = field(default_factory=list)
    steady_exit: int = -1
    steady_errors: list[str] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)
    dropped_exit: int = -1
    dropped_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def broadcast(deployed_local, tmp_path_factory) -> Broadcast:
    talk = tmp_path_factory.mktemp("talk") / "talk.wav"
    write_wav(talk, synthesize(TALK) * 2)  # 40 s
    result = Broadcast()
    clients: list[Client] = []
    with RunningPlatform(deployed_local["endpoint"], idle_timeout=IDLE_TIMEOUT) as platform:
        connection = ("--url", platform.url, "--heartbeat", HEARTBEAT)
        token = ("--token", local_auth.token())  # both speakers are the same speaker (sub)
        try:
            # One speaker creates the session; both listeners join; then a second one takes the session over
            # and streams the talk, so no caption comes before the listeners are in, however slow the machine.
            opener = Client("broadcast-speaker", *connection, *token, stdin=subprocess.PIPE)
            clients.append(opener)
            session = opener.next_line(lambda line: line.startswith("session ")).split()[1].rstrip(":")
            listen = ("--session", session, "--language", "es", "--json")
            # One after the other: the gateway lists connections in the order they opened, and the second
            # listener's is the one the test drops.
            steady = Client("broadcast-listener", *connection, *listen)
            clients.append(steady)
            steady.next_line(lambda line: '"sessionJoined"' in line)
            dropped = Client("broadcast-listener", *connection, *listen)
            clients.append(dropped)
            dropped.next_line(lambda line: '"sessionJoined"' in line)
            talking = ("--session", session, "--wav", str(talk), "--linger", "30", "--end")
            speaker = Client("broadcast-speaker", *connection, *token, *talking)
            clients.append(speaker)
            opener.quit()
            dropped.next_line(is_final)
            management = emulator_client("apigatewaymanagementapi", platform.stack.http.endpoint)
            (connection_id,) = platform.stack.gateway.connection_ids(user_agent="broadcast-listener")[1:]
            management.delete_connection(ConnectionId=connection_id)
            result.steady_exit, result.dropped_exit = steady.finish(), dropped.finish()
            assert speaker.finish() == 0, speaker.stderr
        except Exception as failure:
            raise AssertionError(f"the clients said: {[c.stderr for c in clients]}") from failure
        finally:
            for client in clients:
                client.process.kill()
    result.steady, result.steady_errors = steady.messages(), steady.stderr
    result.dropped, result.dropped_errors = dropped.messages(), dropped.stderr
    return result


def finals(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m["type"] == "translation" and not m["isPartial"]]


def assert_in_order_once(messages: list[dict]) -> None:
    """Each final once, by ``startTime``; no caption (partial or final) before the newest final shown."""
    newest = float("-inf")
    seen: set[str] = set()
    for message in messages:
        if message["type"] != "translation":
            continue
        assert message["startTime"] >= newest, f"went backwards: {message}"
        if not message["isPartial"]:
            assert message["segmentId"] not in seen, f"shown twice: {message}"
            seen.add(message["segmentId"])
            newest = message["startTime"]


def test_listener_stays_connected_past_the_idle_timeout_and_prints_the_whole_talk(broadcast):
    joined = [m for m in broadcast.steady if m["type"] == "sessionJoined"]
    assert len(joined) == 1, broadcast.steady_errors  # never dropped once joined, so never rejoined
    heard = finals(broadcast.steady)
    # The talk lasts two idle timeouts, and its captions kept coming to the end.
    assert len(heard) >= 3 and heard[-1]["startTime"] > 1.5 * IDLE_TIMEOUT
    assert_in_order_once(broadcast.steady)
    assert broadcast.steady[-1]["type"] == "sessionEnded"
    assert broadcast.steady_exit == 0


def test_listener_rejoins_a_dropped_connection_and_its_captions_stay_in_order_once(broadcast):
    assert any("joining session" in line for line in broadcast.dropped_errors), broadcast.dropped_errors
    joins = [i for i, m in enumerate(broadcast.dropped) if m["type"] == "sessionJoined"]
    assert len(joins) == 2
    assert_in_order_once(broadcast.dropped)
    # Captions came before the drop and after the rejoin, none the steady listener was not sent.
    before, after = finals(broadcast.dropped[: joins[1]]), finals(broadcast.dropped[joins[1] :])
    assert before and after
    assert {m["segmentId"] for m in before + after} <= {m["segmentId"] for m in finals(broadcast.steady)}
    assert broadcast.dropped[-1]["type"] == "sessionEnded"
    assert broadcast.dropped_exit == 0
