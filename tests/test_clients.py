"""The command-line clients: audio conversion and message lines, and the speaker steering a broadcast."""

from __future__ import annotations

import asyncio
import base64
import json
import queue
import re
import subprocess
import sys
import threading
import wave
from pathlib import Path

import numpy as np
import pytest
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosedOK, InvalidStatus
from websockets.http11 import Response
from websockets.sync.client import connect

from broadcast_client import listener, speaker
from broadcast_client.audio import SAMPLE_RATE, chunks, read_wav
from broadcast_client.captions import Captions
from broadcast_client.connection import ClientFailed, NotAnswered, describe, url_for
from broadcast_client.keepalive import HEARTBEAT_SECONDS, MAX_HEARTBEAT_SECONDS, GaveUp, Reconnects, heartbeats
from broadcast_client.speaker import command_message
from tests.support.messages import MESSAGE_MODELS
from tests.support.running_platform import RunningPlatform

ROOT = Path(__file__).resolve().parents[1]


def write_wav(path, samples: np.ndarray, rate: int, channels: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())


def test_stereo_44k_wav_becomes_16k_mono_pcm(tmp_path):
    seconds = 0.5
    t = np.arange(int(44100 * seconds)) / 44100
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    write_wav(tmp_path / "a.wav", np.stack([tone, tone], axis=1).reshape(-1), 44100, 2)
    pcm = np.frombuffer(read_wav(tmp_path / "a.wav"), dtype="<i2")
    assert len(pcm) == int(SAMPLE_RATE * seconds)
    spectrum = np.abs(np.fft.rfft(pcm))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / len(pcm) - 440) < 5


def test_chunks_hold_the_requested_duration():
    pcm = bytes(SAMPLE_RATE * 2)  # one second
    sizes = [len(c) for c in chunks(pcm, 100)]
    assert sizes == [3200] * 10


def test_a_long_chunk_is_split_so_every_send_audio_message_fits_one_32_kb_frame():
    pcm = bytes(SAMPLE_RATE * 2 * 2)  # two seconds, asked for as one chunk
    pieces = list(chunks(pcm, 2000))
    messages = [
        json.dumps({"action": "sendAudio", "audio": base64.b64encode(p).decode(), "sequence": 2**53 - 1})
        for p in pieces
    ]
    assert max(len(m.encode()) for m in messages) <= 32 * 1024
    assert b"".join(pieces).rstrip(b"\0") == pcm.rstrip(b"\0") and sum(map(len, pieces)) >= len(pcm)


def test_url_and_message_lines():
    assert url_for("ws://h/local", role="listener") == "ws://h/local?role=listener"
    assert describe({"type": "error", "code": "FORBIDDEN", "message": "no"}) == "error FORBIDDEN: no"
    line = describe(
        {
            "type": "sessionStatus",
            "updateReason": "requested",
            "listenerCount": 2,
            "languageDistribution": {"es": 1, "fr": 1},
            "sessionDuration": 5,
            "broadcastState": {},
        }
    )
    assert "2 listeners [es 1, fr 1]" in line


#: server messages the command-line clients never print as a line: handled on their own (``audio`` saved,
#: ``transcriptPage`` replayed, ``sessionCreated`` announced by the speaker), never printed (``heartbeatAck``), or
#: answers to actions the clients do not send (``askQuestion``, ``markQuestion``)
NOT_PRINTED = {"audio", "transcriptPage", "sessionCreated", "heartbeatAck", "questionReceived", "questionMarked"}


@pytest.mark.parametrize("kind", sorted(set(MESSAGE_MODELS) - NOT_PRINTED))
def test_every_message_a_cli_client_prints_is_a_readable_line_not_json(kind):
    assert not describe({"type": kind}).startswith("{"), f"{kind} is printed as raw JSON: describe it"


def test_the_cli_listener_names_the_talk_it_joined():
    joined = {"type": "sessionJoined", "sessionId": "s-1", "targetLanguage": "es", "sourceLanguage": "en"}
    assert describe(joined) == "joined s-1 in es (speaker: en)"
    titled = {**joined, "title": "Budget 2027", "presenter": "Ana Ruiz"}
    assert describe(titled) == "joined s-1 in es (speaker: en): Budget 2027, by Ana Ruiz"


def test_the_speaker_cli_prints_the_report_in_figures():
    report = {
        "type": "sessionReport",
        "sessionId": "gentle-beaver-4982",
        "durationSeconds": 25,
        "audioSeconds": 20.3,
        "peakListeners": 2,
        "peakListenersByLanguage": {"es": 1, "fr": 1},
        "usage": {"audioSeconds": 20.3, "translatedCharacters": 488, "spokenCharacters": 344, "messagesSent": 20},
        "estimatedCostUsd": 0.021,
    }
    first, second = describe(report).splitlines()
    assert first == "report for gentle-beaver-4982: 25 s, 20.3 s of audio, peak 2 listeners [es 1, fr 1]"
    assert "488 characters translated" in second and "estimated cost $0.021" in second


def test_the_cli_listener_says_which_voice_spoke_a_final_or_that_its_speech_was_unavailable():
    final = {"type": "translation", "language": "es", "text": "hola", "isPartial": False, "translated": True}
    assert describe({**final, "audio": {"data": "x"}, "speech": "neural"}) == "[es] hola [speech]"
    assert describe({**final, "audio": {"data": "x"}, "speech": "standard"}) == "[es] hola [speech, standard voice]"
    assert describe({**final, "speech": "skipped"}) == "[es] hola [speech unavailable for this line]"
    assert describe(final) == "[es] hola"


def test_the_cli_listener_says_when_captions_are_delayed_and_when_they_flow_again():
    state = {"isPaused": False, "isMuted": False, "volume": 1.0}
    changed = {"type": "broadcastStateChanged", "sessionId": "s", "timestamp": 1.0}
    delayed = describe({**changed, "broadcastState": {**state, "captionsDelayed": True}})
    assert delayed.startswith("broadcast: live, speech on, volume 1.0, captions delayed")
    assert describe({**changed, "broadcastState": state}) == "broadcast: live, speech on, volume 1.0"


def test_the_listener_shows_each_final_once_in_order_and_no_stale_partial():
    def caption(segment: str, start: float, text: str, partial: bool = False) -> dict:
        return {"type": "translation", "segmentId": segment, "startTime": start, "text": text, "isPartial": partial}

    captions = Captions()
    arriving = [
        caption("s0-u1", 0.0, "hola", partial=True),
        caption("s0-u1", 0.0, "hola a", partial=True),
        caption("s0-u1", 0.0, "hola", partial=True),  # a shorter, older partial
        caption("s0-u1", 0.0, "hola a todos"),
        caption("s0-u1", 0.0, "hola a todos"),  # a retry's duplicate
        caption("s0-u1", 0.0, "hola a todos y", partial=True),  # a partial after its final
        caption("s0-u3", 4.0, "adiós"),
        caption("s0-u2", 2.0, "y bien"),  # a final that came after a later one: skipped by the server
        caption("s0-u2", 2.0, "y", partial=True),
    ]
    shown = [(m["segmentId"], m["text"]) for m in arriving if captions.accept(m)]
    assert shown == [("s0-u1", "hola"), ("s0-u1", "hola a"), ("s0-u1", "hola a todos"), ("s0-u3", "adiós")]
    assert captions.dropped == 5


class SpeakerProcess:
    """``broadcast-speaker`` as a person runs it, its output read line by line as it comes."""

    def __init__(self, *args: str) -> None:
        script = Path(sys.executable).parent / "broadcast-speaker"
        self.process = subprocess.Popen(
            [str(script), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: queue.Queue[str] = queue.Queue()
        for stream, into in ((self.process.stdout, self.lines), (self.process.stderr, self.errors)):
            threading.Thread(target=lambda s=stream, q=into: [q.put(line) for line in s], daemon=True).start()

    def command(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    @staticmethod
    def next_matching(lines: queue.Queue[str], wanted, wait: float = 60) -> str:
        while True:
            line = lines.get(timeout=wait)
            if wanted(line):
                return line


def next_message(ws, wanted, wait: float = 60) -> dict:
    """The next message ``wanted`` accepts, skipping others (captions, counts)."""
    while True:
        message = json.loads(ws.recv(timeout=wait))
        if wanted(message):
            return message


@pytest.mark.terraform
@pytest.mark.minutes(0.4)
def test_the_speaker_cli_pauses_mutes_sets_volume_and_reports_status_while_it_streams(deployed_local, tmp_path):
    talk = tmp_path / "long-talk.wav"  # ten minutes: the stream is still going when the commands come
    write_wav(talk, (3000 * np.sin(np.arange(600 * 16000) * 2 * np.pi * 220 / 16000)), 16000, 1)
    with RunningPlatform(deployed_local["endpoint"]) as platform:
        speaker = SpeakerProcess("--url", platform.url, "--wav", str(talk), "--json")
        try:
            created = speaker.next_matching(speaker.lines, lambda line: line.startswith("session "))
            session_id = created.split()[1].rstrip(":")
            with connect(f"{platform.url}?role=listener", max_size=2**20) as listener:
                listener.send(json.dumps({"action": "joinSession", "sessionId": session_id, "targetLanguage": "es"}))
                next_message(listener, lambda m: m["type"] == "sessionJoined")

                def state_changed() -> dict:
                    return next_message(listener, lambda m: m["type"] == "broadcastStateChanged")["broadcastState"]

                speaker.command("pause")
                assert state_changed() == {"isPaused": True, "isMuted": False, "volume": 1.0}
                speaker.command("resume")
                assert state_changed() == {"isPaused": False, "isMuted": False, "volume": 1.0}
                speaker.command("mute")
                assert state_changed()["isMuted"] is True
                speaker.command("volume 0.5")
                assert state_changed() == {"isPaused": False, "isMuted": True, "volume": 0.5}
                speaker.command("volume loud")  # refused by the client itself, nothing sent
                assert "usage: volume" in speaker.next_matching(speaker.errors, lambda line: "volume" in line)
                speaker.command("status")
                status = json.loads(
                    speaker.next_matching(speaker.lines, lambda line: '"sessionStatus"' in line and "requested" in line)
                )
                assert (status["listenerCount"], status["languageDistribution"]) == (1, {"es": 1})
                assert status["broadcastState"] == {"isPaused": False, "isMuted": True, "volume": 0.5}
                speaker.command("end")  # stops the ten-minute stream
                ended = next_message(listener, lambda m: m["type"] == "sessionEnded")
                assert ended["reason"] == "speakerEnded"
            assert speaker.process.wait(timeout=60) == 0
        finally:
            speaker.process.kill()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("pause", {"action": "pauseBroadcast"}),
        (" resume ", {"action": "resumeBroadcast"}),
        ("mute", {"action": "muteBroadcast"}),
        ("unmute", {"action": "unmuteBroadcast"}),
        ("volume 0.5", {"action": "setVolume", "volume": 0.5}),
        ("volume 0", {"action": "setVolume", "volume": 0.0}),
        ("status", {"action": "getSessionStatus"}),
        ("end", {"action": "endSession"}),
    ],
)
def test_speaker_commands_become_their_actions(line, message):
    assert command_message(line) == message


@pytest.mark.parametrize(
    "line", ["volume", "volume loud", "volume 1.5", "volume -0.1", "volume nan", "pause now", "jump"]
)
def test_a_bad_speaker_command_is_explained_not_sent(line):
    explanation = command_message(line)
    assert isinstance(explanation, str) and ("usage" in explanation or "unknown command" in explanation)


LISTENER_ARGS = ["--session", "golden-eagle-misty-otter-4271", "--language", "es"]


def test_both_clients_heartbeat_at_the_web_pages_interval_within_the_protocols_five_minutes():
    pages = re.search(r"export const HEARTBEAT_MS = ([0-9_]+);", (ROOT / "web/src/connection.ts").read_text())
    assert pages is not None and int(pages.group(1).replace("_", "")) == HEARTBEAT_SECONDS * 1000
    assert listener.parse(LISTENER_ARGS).heartbeat == speaker.parse([]).heartbeat == HEARTBEAT_SECONDS
    assert 0 < HEARTBEAT_SECONDS < MAX_HEARTBEAT_SECONDS
    assert listener.parse([*LISTENER_ARGS, "--heartbeat", "300"]).heartbeat == 300


def test_the_clients_give_a_private_talks_passcode_and_title_as_the_protocol_takes_them(monkeypatch):
    from broadcast_shared.messages.inbound import CreateSession, JoinSession

    monkeypatch.setenv("BROADCAST_PASSCODE", "harbour-42")
    args = listener.parse(LISTENER_ARGS)
    join = listener.Listener(args.session, args.language, True, None, args.passcode).join_message()
    assert JoinSession.model_validate_json(join).passcode.get_secret_value() == "harbour-42"
    talk = speaker.parse(["--title", "Harbour futures", "--presenter", "Ana Núñez"])
    created = CreateSession.model_validate(speaker.SpeakerLink(talk, "token")._create_message())
    assert (created.title, created.presenter, created.passcode.get_secret_value()) == (
        "Harbour futures",
        "Ana Núñez",
        "harbour-42",
    )
    monkeypatch.delenv("BROADCAST_PASSCODE")
    public = json.loads(listener.Listener("golden-eagle-427", "es", True, None).join_message())
    assert "passcode" not in public and "passcode" not in speaker.SpeakerLink(speaker.parse([]), "t")._create_message()


def test_a_speech_only_listener_joins_without_captions():
    assert listener.parse(LISTENER_ARGS).captions is True
    args = listener.parse([*LISTENER_ARGS, "--no-captions"])
    speech_only = listener.Listener(args.session, args.language, False, None, captions=args.captions)
    assert json.loads(speech_only.join_message())["captions"] is False
    assert "captions" not in json.loads(listener.Listener(args.session, args.language, False, None).join_message())


@pytest.mark.parametrize("interval", ["0", "-1", "301", "often"])
def test_a_heartbeat_interval_the_protocol_does_not_allow_is_refused(interval, capsys):
    with pytest.raises(SystemExit) as refused:
        listener.parse([*LISTENER_ARGS, "--heartbeat", interval])
    assert refused.value.code == 2 and "--heartbeat" in capsys.readouterr().err


def test_heartbeats_go_at_the_interval_until_the_connection_closes():
    slept: list[float] = []
    sent: list[str] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def send(text: str) -> None:
        if len(sent) == 3:
            raise ConnectionClosedOK(None, None)
        sent.append(text)

    asyncio.run(heartbeats(send, 60, sleep))
    assert slept == [60, 60, 60, 60] and [json.loads(m) for m in sent] == [{"action": "heartbeat"}] * 3


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_reconnecting_retries_network_errors_until_the_budget_is_spent_and_starts_again_once_usable():
    clock = Clock()
    reconnects = Reconnects(give_up_after=120, clock=clock)
    refused = ConnectionRefusedError(111, "Connection refused")
    clock.now = 119
    assert reconnects.process_exception(refused) is None
    reconnects.usable()
    clock.now = 238
    assert reconnects.process_exception(refused) is None
    clock.now = 239
    gave_up = reconnects.process_exception(refused)
    assert isinstance(gave_up, GaveUp) and "Connection refused" in str(gave_up)
    with pytest.raises(GaveUp):
        asyncio.run(reconnects.dropped("the connection closed (1001 Going away)", was_usable=True))


def test_a_refused_handshake_is_not_retried():
    forbidden = InvalidStatus(Response(403, "Forbidden", Headers()))
    assert Reconnects(give_up_after=120).process_exception(forbidden) is forbidden


def translation(segment: str, start: float, text: str, partial: bool = False) -> dict:
    return {"type": "translation", "segmentId": segment, "startTime": start, "text": text, "isPartial": partial}


def test_a_rejoining_listener_shows_the_talk_it_missed_then_the_live_captions_each_once_in_order(capsys):
    shown = listener.Listener("golden-eagle-misty-otter-4271", "es", raw=True, save_audio=None)
    asked: list[dict] = []

    async def send(text: str) -> None:
        asked.append(json.loads(text))

    def receive(message: dict) -> bool:
        return asyncio.run(shown.handle(message, send))

    joined = {"type": "sessionJoined", "sessionId": "golden-eagle-misty-otter-4271", "targetLanguage": "es"}
    receive(joined)
    receive({"type": "transcriptPage", "language": "es", "segments": []})
    receive(translation("s0-u1", 0.0, "hola"))
    receive(translation("s0-u2", 2.0, "y", partial=True))
    shown.catch_up()  # the connection dropped; then the rejoin
    receive(joined)
    receive(translation("s0-u4", 6.0, "adiós"))  # live, while the talk so far is being read: held
    receive(translation("s0-u5", 8.0, "gra", partial=True))
    segments = [
        {"segmentId": "s0-u1", "text": "hola", "startTime": 0.0},
        {"segmentId": "s0-u2", "text": "y bien", "startTime": 2.0},
    ]
    receive({"type": "transcriptPage", "language": "es", "segments": segments, "nextToken": "000000000200#s0-u2"})
    segments = [{"segmentId": "s0-u3", "text": "todo", "startTime": 4.0}, {"segmentId": "s0-u4", "text": "adiós"}]
    segments[1]["startTime"] = 6.0
    receive({"type": "transcriptPage", "language": "es", "segments": segments})
    receive(translation("s0-u4", 6.0, "adiós"))  # a retry's duplicate
    assert receive({"type": "sessionEnded", "sessionId": "golden-eagle-misty-otter-4271", "reason": "speakerEnded"})
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    captions = [(m["segmentId"], m["text"], m["isPartial"]) for m in printed if m["type"] == "translation"]
    assert captions == [
        ("s0-u1", "hola", False),
        ("s0-u2", "y", True),
        ("s0-u2", "y bien", False),
        ("s0-u3", "todo", False),
        ("s0-u4", "adiós", False),
        ("s0-u5", "gra", True),
    ]
    assert [m.get("nextToken") for m in asked] == [None, None, "000000000200#s0-u2"]
    assert {m["action"] for m in asked} == {"getTranscript"}


def test_a_listener_that_cannot_join_fails_but_retries_a_join_not_answered_and_a_session_gone_has_ended():
    async def send(text: str) -> None:
        pass

    refused = {"type": "error", "action": "joinSession", "code": "SESSION_NOT_FOUND", "message": "no such session"}
    first = listener.Listener("golden-eagle-misty-otter-4271", "es", raw=True, save_audio=None)
    first.join_message()
    timed_out = {"message": "Internal server error", "connectionId": "7WnVJcEG9zLMSOlB", "requestId": "ZDTk"}
    with pytest.raises(NotAnswered):  # the join's function failed: the connection is dropped and tried again
        asyncio.run(first.handle(timed_out, send))
    with pytest.raises(ClientFailed, match="SESSION_NOT_FOUND"):
        asyncio.run(first.handle(refused, send))
    rejoining = listener.Listener("golden-eagle-misty-otter-4271", "es", raw=True, save_audio=None)
    asyncio.run(rejoining.handle({"type": "sessionJoined"}, send))
    assert asyncio.run(rejoining.handle(refused, send)) is True


def test_the_listener_exits_1_with_a_line_on_stderr_when_it_gives_up(capsys):
    code = listener.main([*LISTENER_ARGS, "--url", "ws://127.0.0.1:9/local", "--give-up-after", "0"])
    assert code == 1
    assert "broadcast-listener: gave up after 0 s without a connection" in capsys.readouterr().err


def test_broadcast_talk_makes_a_fluent_talk_as_long_as_asked_and_refuses_a_negative_pause(tmp_path):
    talk = ROOT / ".venv" / "bin" / "broadcast-talk"
    out = tmp_path / "long.wav"
    done = subprocess.run(
        [talk, out, "Good morning everyone.", "--seconds", "6", "--pause", "0.2"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    with wave.open(str(out)) as made:
        assert (made.getframerate(), made.getnchannels(), made.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        seconds = made.getnframes() / SAMPLE_RATE
    # the sentence (about 1.5 s) and its 0.2 s pause, over and over: at least the 6 s asked, under one copy more
    assert 6.0 <= seconds < 9.0
    refused = subprocess.run([talk, tmp_path / "x.wav", "--pause", "-1"], capture_output=True, text=True)
    assert refused.returncode == 2
    assert "broadcast-talk: error: --pause must be 0 or more" in refused.stderr
    assert not (tmp_path / "x.wav").exists()
