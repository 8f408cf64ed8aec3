"""A speaker streaming a recorded talk through a running platform, and what it heard back."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.sync.client import connect

from broadcast_tools import local_auth


@dataclass
class TalkResult:
    #: the audio chunk's length
    chunk_ms: int = 200
    session_id: str = ""
    #: every transcript message, with the time it arrived
    transcripts: list[tuple[float, dict]] = field(default_factory=list)
    #: when each chunk was sent, by sequence
    sent_at: dict[int, float] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    #: what each listener received (by target language), with arrival times
    heard: dict[str, list[tuple[float, dict]]] = field(default_factory=dict)
    #: the speaker's ``sessionStatus`` answer to ``getSessionStatus`` once everything arrived
    status: dict = field(default_factory=dict)
    #: the ``sessionCreated`` answer when the speaker resumed the session (``speaker_drop_at``)
    resumed: dict = field(default_factory=dict)

    @property
    def finals(self) -> list[dict]:
        return [m for _, m in self.transcripts if not m["isPartial"]]

    @property
    def partials(self) -> list[dict]:
        return [m for _, m in self.transcripts if m["isPartial"]]

    @property
    def final_text(self) -> str:
        return " ".join(m["text"] for m in self.finals)

    def speech_end(self, transcript: dict[str, Any]) -> float:
        """When the chunk holding the end of ``transcript``'s audio was sent."""
        last_chunk = min(int(transcript["endTime"] * 1000 // self.chunk_ms), max(self.sent_at))
        return self.sent_at[last_chunk]

    def final_latencies(self) -> list[tuple[float, float]]:
        """Each final transcript's arrival, and the milliseconds from its speech end to its arrival."""
        return [(at, (at - self.speech_end(m)) * 1000) for at, m in self.transcripts if not m["isPartial"]]


def everything_arrived(talk_seconds: float, listeners: tuple[str, ...]) -> Callable[[TalkResult], bool]:
    """The speaker has finals up to the end of the talk, and every listener has each of them."""

    def complete(result: TalkResult) -> bool:
        finals = result.finals
        if not finals or max(m["endTime"] for m in finals) < talk_seconds - 1.5:
            return False
        wanted = {m["segmentId"] for m in finals}
        for language in listeners:
            heard = result.heard.get(language, [])
            got = {m["segmentId"] for _, m in heard if m.get("type") == "translation" and not m["isPartial"]}
            if not wanted <= got:
                return False
        return True

    return complete


def stream_talk(
    url: str,
    pcm: bytes,
    chunk_ms: int = 200,
    pace: float = 1.0,
    wait_seconds: float = 60,
    listeners: tuple[str, ...] = (),
    complete: Callable[[TalkResult], bool] | None = None,
    during: Callable[[int], None] | None = None,
    speaker_drop_at: int | None = None,
    speech_only: tuple[str, ...] = (),
) -> TalkResult:
    """Send ``pcm`` in chunks (``pace`` times real time, as a speaker talks) while a listener per
    language in ``listeners`` is in the session; then wait, on each arriving message, up to
    ``wait_seconds`` until ``complete`` says everything expected has arrived (by default: the
    talk's finals, at every listener), and ask for the session's status.

    ``during(sequence)`` runs after each chunk is sent (to inject a fault mid-talk). At chunk
    ``speaker_drop_at`` the speaker's connection is dropped and the speaker resumes the
    session from a new one (``createSession`` naming it), going on with the next sequence. The listeners of the
    languages in ``speech_only`` join with ``captions: false``."""
    result = TalkResult(chunk_ms)
    complete = complete or everything_arrived(len(pcm) / 32000, listeners)
    arrived = threading.Condition()
    size = 32 * chunk_ms
    chunks = [pcm[i : i + size].ljust(size, b"\0") for i in range(0, len(pcm), size)]
    chunks += [b"\0" * size] * (1000 // chunk_ms)  # a second of silence ends the last utterance
    speaker_url = f"{url}?role=speaker&token={local_auth.token()}"
    with contextlib.ExitStack() as sockets:
        speaker = {"ws": sockets.enter_context(connect(speaker_url, max_size=2**20))}
        speaker["ws"].send(json.dumps({"action": "createSession", "sourceLanguage": "en"}))
        while not result.session_id:
            message = json.loads(speaker["ws"].recv(timeout=15))
            result.session_id = message.get("sessionId", "") if message.get("type") == "sessionCreated" else ""
        done = threading.Event()
        threads = [_listen(url, result, language, done, arrived, language not in speech_only) for language in listeners]

        def receive() -> None:
            while not done.is_set():
                ws = speaker["ws"]
                try:
                    message = json.loads(ws.recv(timeout=0.5))
                except TimeoutError:
                    continue
                except Exception:  # noqa: BLE001 - the socket closed: the speaker may have moved to a new one
                    if ws is speaker["ws"]:
                        time.sleep(0.05)
                    continue
                with arrived:
                    if message.get("type") == "transcript":
                        result.transcripts.append((time.monotonic(), message))
                    elif message.get("type") == "error":
                        result.errors.append(message)
                    elif message.get("type") == "sessionCreated" and message.get("resumed"):
                        result.resumed = message
                    elif message.get("type") == "sessionStatus" and message.get("updateReason") == "requested":
                        result.status = message
                    arrived.notify_all()

        reader = threading.Thread(target=receive, daemon=True)
        reader.start()
        started = time.monotonic()
        for sequence, chunk in enumerate(chunks):
            if sequence == speaker_drop_at:
                speaker["ws"].close()
                speaker["ws"] = sockets.enter_context(connect(speaker_url, max_size=2**20))
                resume = {"action": "createSession", "sourceLanguage": "en", "sessionId": result.session_id}
                speaker["ws"].send(json.dumps(resume))
                with arrived:
                    if not arrived.wait_for(lambda: bool(result.resumed), timeout=30):
                        raise AssertionError(f"the speaker could not resume session {result.session_id}")
            speaker["ws"].send(
                json.dumps({"action": "sendAudio", "audio": base64.b64encode(chunk).decode(), "sequence": sequence})
            )
            result.sent_at[sequence] = time.monotonic()
            if during:
                during(sequence)
            time.sleep(max(0.0, started + (sequence + 1) * chunk_ms / 1000 / pace - time.monotonic()))
        with arrived:
            arrived.wait_for(lambda: complete(result), timeout=wait_seconds)
            speaker["ws"].send(json.dumps({"action": "getSessionStatus"}))
            arrived.wait_for(lambda: bool(result.status), timeout=15)
        done.set()
        reader.join(timeout=2)
        for thread in threads:
            thread.join(timeout=2)
    return result


def _listen(
    url: str,
    result: TalkResult,
    language: str,
    done: threading.Event,
    arrived: threading.Condition,
    captions: bool = True,
) -> threading.Thread:
    heard = result.heard.setdefault(language, [])
    joined = threading.Event()
    join = {"action": "joinSession", "sessionId": result.session_id, "targetLanguage": language}

    def run() -> None:
        with connect(f"{url}?role=listener", max_size=2**20) as ws:
            ws.send(json.dumps(join if captions else {**join, "captions": False}))
            while not done.is_set():
                try:
                    message = json.loads(ws.recv(timeout=0.5))
                except TimeoutError:
                    continue
                except Exception:  # noqa: BLE001 - the socket closed
                    return
                if message.get("type") == "sessionJoined":
                    joined.set()
                with arrived:
                    heard.append((time.monotonic(), message))
                    arrived.notify_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not joined.wait(timeout=30):
        raise AssertionError(f"the {language} listener did not join session {result.session_id} within 30 s")
    return thread
