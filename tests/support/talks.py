"""Several talks at once through a running platform: each a speaker streaming in real time to its own listeners.

One event loop drives every connection (hundreds of listeners cost a few coroutines, not a thread each). What each
talk's speaker and listeners received is kept with its arrival time, so callers count finals delivered per
listener, order, and speech end → caption latency (:class:`TalkRecord`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from broadcast_tools import local_auth

#: a listener's messages are kept up to this size (speech rides in the caption's own message)
MAX_MESSAGE_BYTES = 2**20
#: a listener whose join failed joins again, as a person taps Join again, this many times in all, this far apart
JOIN_ATTEMPTS = 3
JOIN_RETRY_SECONDS = 1.0


@dataclass
class ListenerRecord:
    language: str
    #: the final captions, with their arrival times (``time.monotonic``)
    finals: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    #: gateway errors (``{"message": "Too Many Requests"}``) and protocol errors once joined
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: the answers to joins that failed (each retried, up to ``JOIN_ATTEMPTS`` joins)
    join_failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def joined(self) -> bool:
        return len(self.join_failures) < JOIN_ATTEMPTS and not any(e.get("type") == "connection" for e in self.errors)

    def segment_ids(self) -> list[str]:
        return [message["segmentId"] for _, message in self.finals]


@dataclass
class TalkRecord:
    chunk_ms: int
    session_id: str = ""
    #: the ``error`` answer to ``createSession`` (a refused session: ``CAPACITY_REACHED``, say), or the gateway's
    refused: dict[str, Any] | None = None
    #: when each chunk was sent, by sequence
    sent_at: dict[int, float] = field(default_factory=dict)
    #: the speaker's final transcripts in the order they arrived, with their arrival times
    finals: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    speaker_errors: list[dict[str, Any]] = field(default_factory=list)
    listeners: list[ListenerRecord] = field(default_factory=list)

    def speech_end(self, transcript: dict[str, Any]) -> float:
        """When the chunk holding the end of ``transcript``'s audio was sent."""
        last_chunk = min(int(transcript["endTime"] * 1000 // self.chunk_ms), max(self.sent_at))
        return self.sent_at[last_chunk]

    def caption_latencies_ms(self) -> list[float]:
        """Speech end → each listener's final caption, for every final a listener received."""
        ends = {message["segmentId"]: self.speech_end(message) for _, message in self.finals}
        return [
            (arrived - ends[message["segmentId"]]) * 1000
            for listener in self.listeners
            for arrived, message in listener.finals
            if message["segmentId"] in ends
        ]

    def inversions(self, listener: ListenerRecord) -> int:
        """Finals the listener received before one the speaker's transcript has ahead of it."""
        order = {message["segmentId"]: n for n, (_, message) in enumerate(self.finals)}
        positions = [order[s] for s in listener.segment_ids() if s in order]
        return sum(1 for before, after in zip(positions, positions[1:], strict=False) if after < before)

    def missing(self, listener: ListenerRecord) -> int:
        """The speaker's finals the listener never received."""
        return len({m["segmentId"] for _, m in self.finals} - set(listener.segment_ids()))

    def complete(self, talk_seconds: float, expected_finals: int = 1) -> bool:
        """The speaker has ``expected_finals`` finals, up to the end of the talk, and every listener each of them."""
        if not self.finals or len(self.finals) < expected_finals:
            return False
        if max(m["endTime"] for _, m in self.finals) < talk_seconds - 1.5:
            return False
        wanted = {message["segmentId"] for _, message in self.finals}
        return all(wanted <= set(listener.segment_ids()) for listener in self.listeners)


async def _speaker_messages(ws: ClientConnection, record: TalkRecord, changed: asyncio.Event) -> None:
    async for raw in ws:
        message = json.loads(raw)
        if message.get("type") == "transcript" and not message.get("isPartial"):
            record.finals.append((time.monotonic(), message))
            changed.set()
        elif message.get("type") == "error" or "message" in message and "type" not in message:
            record.speaker_errors.append(message)


async def _listen(
    url: str, record: TalkRecord, listener: ListenerRecord, joined: asyncio.Event, changed: asyncio.Event
) -> None:
    try:
        async with connect(f"{url}?role=listener", max_size=MAX_MESSAGE_BYTES, open_timeout=60) as ws:
            join = {"action": "joinSession", "sessionId": record.session_id, "targetLanguage": listener.language}
            await ws.send(json.dumps(join))
            async for raw in ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "sessionJoined":  # a join sent again after an error that had taken effect is too
                    joined.set()
                elif not joined.is_set() and (kind == "error" or "message" in message and kind is None):
                    # The join failed (the gateway's Internal server error: joinSession timed out on a loaded
                    # machine, say): a person taps Join again; after JOIN_ATTEMPTS, a listener who missed all.
                    listener.join_failures.append(message)
                    if len(listener.join_failures) >= JOIN_ATTEMPTS:
                        joined.set()
                        return
                    await asyncio.sleep(JOIN_RETRY_SECONDS)
                    await ws.send(json.dumps(join))
                elif kind == "translation" and not message.get("isPartial"):
                    listener.finals.append((time.monotonic(), message))
                    changed.set()
                elif kind == "error" or "message" in message and kind is None:
                    listener.errors.append(message)
    except (OSError, WebSocketException) as exc:
        # A listener who could not connect (or was dropped) counts as one who missed what came after.
        listener.errors.append({"type": "connection", "message": f"{type(exc).__name__}: {exc}"})
        joined.set()


async def run_talk(
    url: str,
    pcm: bytes,
    languages: Sequence[str],
    expected_finals: int = 1,
    chunk_ms: int = 200,
    start_delay: float = 0.0,
    wait_seconds: float = 60.0,
) -> TalkRecord:
    """One talk: a speaker creates a session, a listener per entry of ``languages`` joins it, the speaker streams
    ``pcm`` in real time (then a second of silence), and the talk waits up to ``wait_seconds`` for finals up to the
    end of the talk (at least ``expected_finals``) at the speaker, and every one of them at every listener."""
    await asyncio.sleep(start_delay)
    record = TalkRecord(chunk_ms, listeners=[ListenerRecord(language) for language in languages])
    size = 32 * chunk_ms
    chunks = [pcm[i : i + size].ljust(size, b"\0") for i in range(0, len(pcm), size)]
    chunks += [b"\0" * size] * (1000 // chunk_ms)
    speaker_url = f"{url}?role=speaker&token={local_auth.token()}"
    changed = asyncio.Event()
    async with connect(speaker_url, max_size=MAX_MESSAGE_BYTES, open_timeout=60) as speaker:
        await speaker.send(json.dumps({"action": "createSession", "sourceLanguage": "en"}))
        while not record.session_id:
            answer = json.loads(await asyncio.wait_for(speaker.recv(), timeout=60))
            if answer.get("type") == "sessionCreated":
                record.session_id = answer["sessionId"]
            elif answer.get("type") == "error" or "message" in answer and "type" not in answer:
                # Refused (CAPACITY_REACHED, say), or failed at the gateway ("Internal server error").
                record.refused = answer
                return record
        tasks = [asyncio.create_task(_speaker_messages(speaker, record, changed))]
        joins = []
        for listener in record.listeners:
            joined = asyncio.Event()
            joins.append(joined)
            tasks.append(asyncio.create_task(_listen(url, record, listener, joined, changed)))
        await asyncio.wait_for(asyncio.gather(*(j.wait() for j in joins)), timeout=120)
        started = time.monotonic()
        for sequence, chunk in enumerate(chunks):
            message = {"action": "sendAudio", "audio": base64.b64encode(chunk).decode(), "sequence": sequence}
            await speaker.send(json.dumps(message))
            record.sent_at[sequence] = time.monotonic()
            await asyncio.sleep(max(0.0, started + (sequence + 1) * chunk_ms / 1000 - time.monotonic()))
        deadline = time.monotonic() + wait_seconds
        talk_seconds = len(pcm) / 32000
        while time.monotonic() < deadline and not record.complete(talk_seconds, expected_finals):
            changed.clear()
            try:
                await asyncio.wait_for(changed.wait(), timeout=deadline - time.monotonic())
            except TimeoutError:
                break
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # The speaker ends the talk, as a speaker does: its place in the deployment's capacity is free again.
        await speaker.send(json.dumps({"action": "endSession"}))
        with contextlib.suppress(TimeoutError, ConnectionClosed):
            async with asyncio.timeout(30):
                while json.loads(await speaker.recv()).get("type") != "sessionEnded":
                    pass
    return record


async def run_talks(
    url: str,
    pcm: bytes,
    talks: int,
    languages: Sequence[str],
    expected_finals: int = 1,
    stagger_seconds: float = 0.7,
    wait_seconds: float = 60.0,
) -> list[TalkRecord]:
    """``talks`` talks at once, started ``stagger_seconds`` apart, each to a listener per entry of ``languages``."""
    return list(
        await asyncio.gather(
            *(
                run_talk(
                    url,
                    pcm,
                    languages,
                    expected_finals,
                    start_delay=n * stagger_seconds,
                    wait_seconds=wait_seconds,
                )
                for n in range(talks)
            )
        )
    )
