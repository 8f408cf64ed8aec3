"""A speaker streaming a recorded talk through a running platform, and what it heard back."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from websockets.sync.client import connect

from broadcast_tools import local_auth


@dataclass
class TalkResult:
    session_id: str = ""
    #: every transcript message, with the time it arrived
    transcripts: list[tuple[float, dict]] = field(default_factory=list)
    #: when each chunk was sent, by sequence
    sent_at: dict[int, float] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    #: what each listener received (by target language), with arrival times
    heard: dict[str, list[tuple[float, dict]]] = field(default_factory=dict)

    @property
    def finals(self) -> list[dict]:
        return [m for _, m in self.transcripts if not m["isPartial"]]

    @property
    def partials(self) -> list[dict]:
        return [m for _, m in self.transcripts if m["isPartial"]]

    @property
    def final_text(self) -> str:
        return " ".join(m["text"] for m in self.finals)


def stream_talk(
    url: str,
    pcm: bytes,
    chunk_ms: int = 200,
    pace: float = 1.0,
    wait_seconds: float = 60,
    listeners: tuple[str, ...] = (),
    complete: Callable[[TalkResult], bool] | None = None,
) -> TalkResult:
    """Send ``pcm`` in chunks (``pace`` times real time) while a listener per language in
    ``listeners`` is in the session; then wait up to ``wait_seconds`` until ``complete``
    says everything expected has arrived (by default: finals, then 3 s of quiet)."""
    result = TalkResult()
    size = 32 * chunk_ms
    chunks = [pcm[i : i + size].ljust(size, b"\0") for i in range(0, len(pcm), size)]
    chunks += [b"\0" * size] * (1000 // chunk_ms)  # a second of silence ends the last utterance
    with connect(f"{url}?role=speaker&token={local_auth.token()}", max_size=2**20) as ws:
        ws.send(json.dumps({"action": "createSession", "sourceLanguage": "en"}))
        while not result.session_id:
            message = json.loads(ws.recv(timeout=15))
            result.session_id = message.get("sessionId", "") if message.get("type") == "sessionCreated" else ""
        done = threading.Event()
        threads = [_listen(url, result, language, done) for language in listeners]

        def receive() -> None:
            while not done.is_set():
                try:
                    message = json.loads(ws.recv(timeout=0.5))
                except TimeoutError:
                    continue
                except Exception:  # noqa: BLE001 - the socket closed
                    return
                if message.get("type") == "transcript":
                    result.transcripts.append((time.monotonic(), message))
                elif message.get("type") == "error":
                    result.errors.append(message)

        reader = threading.Thread(target=receive, daemon=True)
        reader.start()
        started = time.monotonic()
        for sequence, chunk in enumerate(chunks):
            ws.send(
                json.dumps({"action": "sendAudio", "audio": base64.b64encode(chunk).decode(), "sequence": sequence})
            )
            result.sent_at[sequence] = time.monotonic()
            time.sleep(max(0.0, started + (sequence + 1) * chunk_ms / 1000 / pace - time.monotonic()))
        deadline = time.monotonic() + wait_seconds
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            count = len(result.transcripts) + sum(len(h) for h in result.heard.values())
            time.sleep(0.5)
            if complete is not None:
                if complete(result):
                    break
            elif len(result.transcripts) + sum(len(h) for h in result.heard.values()) != count:
                quiet_since = time.monotonic()
            elif result.finals and time.monotonic() - quiet_since > 3:
                break
        done.set()
        reader.join(timeout=2)
        for thread in threads:
            thread.join(timeout=2)
    return result


def _listen(url: str, result: TalkResult, language: str, done: threading.Event) -> threading.Thread:
    heard = result.heard.setdefault(language, [])
    joined = threading.Event()

    def run() -> None:
        with connect(f"{url}?role=listener", max_size=2**20) as ws:
            ws.send(json.dumps({"action": "joinSession", "sessionId": result.session_id, "targetLanguage": language}))
            while not done.is_set():
                try:
                    message = json.loads(ws.recv(timeout=0.5))
                except TimeoutError:
                    continue
                except Exception:  # noqa: BLE001 - the socket closed
                    return
                if message.get("type") == "sessionJoined":
                    joined.set()
                heard.append((time.monotonic(), message))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    joined.wait(timeout=30)
    return thread
