"""Speaker: create a session and stream a WAV file or the microphone with sendAudio.

Commands, one a line on standard input, also while streaming: pause, resume, mute,
unmute, volume <0..1>, status, end, quit. While streaming, the end of standard input
leaves the stream going; end or quit stops it.

It sends heartbeat every --heartbeat seconds. When the connection drops it reconnects (websockets' backoff)
and resumes the session (createSession naming it) within the server's grace period; audio and commands wait
for the new connection. Exit status 1 when it cannot create or resume the session, or gave up reconnecting.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from broadcast_client.audio import MAX_CHUNK_MS, SAMPLE_RATE, chunks, microphone, read_wav
from broadcast_client.connection import (
    DEFAULT_URL,
    ClientFailed,
    NotAnswered,
    emit,
    is_gateway_answer,
    note,
    url_for,
)
from broadcast_client.keepalive import Reconnects, add_connection_options, heartbeats, run_client

COMMANDS = {
    "pause": "pauseBroadcast",
    "resume": "resumeBroadcast",
    "mute": "muteBroadcast",
    "unmute": "unmuteBroadcast",
    "status": "getSessionStatus",
    "end": "endSession",
}
#: commands after which nothing more is sent: the session ended, or the speaker quits
FINAL_COMMANDS = ("end", "quit")
USER_AGENT = "broadcast-speaker"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="broadcast-speaker", description=__doc__)
    parser.add_argument("--url", default=os.environ.get("BROADCAST_URL", DEFAULT_URL), help="WebSocket API URL")
    parser.add_argument("--token", default=os.environ.get("SPEAKER_TOKEN"), help="speaker JWT (default: a local one)")
    parser.add_argument("--source-language", default="en")
    parser.add_argument("--title", help="the talk's title, shown to listeners and in transcripts")
    parser.add_argument("--presenter", help="the presenter's name, shown with the title")
    parser.add_argument(
        "--passcode",
        default=os.environ.get("BROADCAST_PASSCODE"),
        help="make the talk private: listeners join only with this (default: $BROADCAST_PASSCODE)",
    )
    parser.add_argument(
        "--session", help="take over this session of yours; audio counts from sequence 0, so one that had no audio yet"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--wav", type=Path, help="stream this WAV file (resampled to 16 kHz mono 16-bit)")
    source.add_argument("--mic", action="store_true", help="stream the microphone (needs sox)")
    parser.add_argument(
        "--chunk-ms", type=int, default=100, help=f"audio per sendAudio message (longer is split at {MAX_CHUNK_MS})"
    )
    parser.add_argument("--fast", action="store_true", help="do not pace the file in real time")
    parser.add_argument("--linger", type=float, default=5.0, help="seconds to keep listening after the audio")
    parser.add_argument("--end", action="store_true", help="send endSession when the audio is done")
    parser.add_argument("--json", action="store_true", help="print server messages as raw JSON")
    add_connection_options(parser)
    return parser.parse_args(argv)


def local_token() -> str:
    from broadcast_tools.local_auth import token

    return token()


class SpeakerLink:
    """The speaker's session over its current connection. When the connection drops, a new one resumes the
    session (``createSession`` naming it, docs/PROTOCOL.md "Speaker reconnecting"); what is sent meanwhile
    waits for it. Every connection sends heartbeats; what the server sends is printed."""

    def __init__(self, args: argparse.Namespace, token: str) -> None:
        self.args, self.token = args, token
        self.session_id: str | None = args.session
        #: the session ended (sessionEnded), or the speaker is done: a drop is not resumed
        self.ended = False
        self.closing = False
        self._ws: ClientConnection | None = None
        self._ready = asyncio.Event()

    async def send(self, message: dict[str, Any]) -> None:
        """Send on the current connection; while there is none (reconnecting), wait for the next."""
        text = json.dumps(message)
        while True:
            await self._ready.wait()
            ws = self._ws
            assert ws is not None
            try:
                await ws.send(text)
                return
            except ConnectionClosed:
                if ws is self._ws:
                    self._ready.clear()

    async def created(self) -> None:
        """Returns once the session is created (or resumed) on a connection."""
        await self._ready.wait()

    async def close(self) -> None:
        self.closing = True
        if self._ws is not None:
            await self._ws.close()

    def _refusal(self, error: dict[str, Any]) -> str:
        """What to tell the speaker when createSession is refused."""
        if error.get("code") == "CAPACITY_REACHED":
            talks = error.get("details", {}).get("maxConcurrentTalks")
            return (
                f"this deployment is carrying its maximum of {talks} talks; try again when one ends (CAPACITY_REACHED)"
            )
        doing = f"resume session {self.session_id}" if self.session_id else "create a session"
        return f"could not {doing}: {error.get('code')}: {error.get('message')}"

    def _create_message(self) -> dict[str, Any]:
        """createSession; when resuming, the server keeps the session's own title and passcode."""
        message = {"action": "createSession", "sourceLanguage": self.args.source_language}
        talk = {"title": self.args.title, "presenter": self.args.presenter, "passcode": self.args.passcode}
        message |= {field: value for field, value in talk.items() if value}
        return message | ({"sessionId": self.session_id} if self.session_id else {})

    async def keep(self) -> None:
        """Connect, create or resume the session, print what arrives; again after each drop. Returns when the
        speaker is done or the session ended; raises :class:`ClientFailed` or :class:`GaveUp`."""
        reconnects = Reconnects(self.args.give_up_after)
        url = url_for(self.args.url, role="speaker", token=self.token)
        async for ws in reconnects.connections(url, USER_AGENT):
            usable, reason = False, ""
            # Heartbeats start once the session is created or resumed: API Gateway's answer to a failed request
            # names no request, so until then it can only be createSession's.
            beat: asyncio.Task[None] | None = None
            try:
                await ws.send(json.dumps(self._create_message()))
                async for text in ws:
                    message = json.loads(text)
                    if is_gateway_answer(message) and not usable:
                        raise NotAnswered(f"createSession was not answered: {message['message']}")
                    if message.get("type") == "sessionCreated":
                        usable = True
                        self._on_created(message, ws)
                        beat = beat or asyncio.create_task(heartbeats(ws.send, self.args.heartbeat))
                        continue
                    if message.get("type") == "error" and message.get("action") == "createSession":
                        raise ClientFailed(self._refusal(message))
                    self.ended = self.ended or message.get("type") == "sessionEnded"
                    emit(message, self.args.json)
            except ConnectionClosed:
                pass
            except NotAnswered as failed:
                reason = str(failed)
            finally:
                if beat is not None:
                    beat.cancel()
                self._ws = None
                self._ready.clear()
            if self.ended or self.closing:
                return
            if usable:
                reconnects.usable()
            reason = reason or f"the connection closed ({ws.close_code} {ws.close_reason})".replace(" )", ")")
            note(f"{reason}; resuming session {self.session_id}" if self.session_id else f"{reason}; reconnecting")
            await reconnects.dropped(reason, was_usable=usable)

    def _on_created(self, message: dict[str, Any], ws: ClientConnection) -> None:
        if message.get("resumed"):
            note(f"session {message['sessionId']} resumed")
        else:
            session = message["sessionId"]
            print(f"session {session}: listeners join with --session {session}", flush=True)
        self.session_id = message["sessionId"]
        self._ws = ws
        self._ready.set()


async def run(args: argparse.Namespace) -> None:
    """Returns when the speaker is done; raises :class:`ClientFailed` or :class:`GaveUp` when it cannot go on."""
    link = SpeakerLink(args, args.token or local_token())
    keeping = asyncio.create_task(link.keep())
    created = asyncio.create_task(link.created())
    await asyncio.wait({keeping, created}, return_when=asyncio.FIRST_COMPLETED)
    if keeping.done():
        created.cancel()
        keeping.result()  # raises what stopped it
        return
    speaking = asyncio.create_task(speak(link, args))
    await asyncio.wait({keeping, speaking}, return_when=asyncio.FIRST_COMPLETED)
    if not speaking.done():  # the session ended, or the connection is lost for good
        speaking.cancel()
        keeping.result()
        return
    speaking.result()
    await link.close()
    await keeping


async def speak(link: SpeakerLink, args: argparse.Namespace) -> None:
    """Stream (with --wav or --mic) and take commands."""
    control = asyncio.create_task(commands(link, stdin_lines()))
    if args.wav or args.mic:
        await stream_under_control(link, args, control)
    else:
        await control
    if control.done() and not control.cancelled() and control.result() == "end":
        await asyncio.sleep(1)  # the sessionEnded answer


async def stream_under_control(link: SpeakerLink, args: argparse.Namespace, control: asyncio.Task[str]) -> None:
    """Stream while taking commands; ``end`` or ``quit`` stops the stream, the end of input does not."""
    streaming = asyncio.create_task(stream(link, args))
    await asyncio.wait({streaming, control}, return_when=asyncio.FIRST_COMPLETED)
    if control.done() and control.result() in FINAL_COMMANDS:
        streaming.cancel()
        return
    await streaming
    # Commands are still taken while the last captions come back, for --linger seconds in all.
    try:
        async with asyncio.timeout(args.linger):
            if await asyncio.shield(control) in FINAL_COMMANDS:
                return
            await asyncio.sleep(args.linger)  # the input ended: linger all the same
    except TimeoutError:
        control.cancel()
    if args.end:
        await link.send({"action": "endSession"})
        await asyncio.sleep(1)


async def audio(args: argparse.Namespace) -> AsyncIterator[bytes]:
    """The chunks to send; the microphone is read on a thread, so commands are taken while it records."""
    if args.mic:
        recording = microphone(args.chunk_ms)
        while (chunk := await asyncio.to_thread(next, recording, None)) is not None:
            yield chunk
        return
    for chunk in chunks(read_wav(args.wav), args.chunk_ms):
        yield chunk


async def stream(link: SpeakerLink, args: argparse.Namespace) -> None:
    started = time.monotonic()
    sent = 0.0  # seconds of audio sent
    sequence = -1
    async for chunk in audio(args):
        sequence += 1
        message = {"action": "sendAudio", "audio": base64.b64encode(chunk).decode(), "sequence": sequence}
        await link.send(message)
        sent += len(chunk) / (SAMPLE_RATE * 2)
        if args.wav and not args.fast:
            await asyncio.sleep(max(0.0, started + sent - time.monotonic()))


def stdin_lines() -> asyncio.Queue[str | None]:
    """Lines of standard input as they are typed, None at its end. A daemon thread reads them, so a
    speaker whose audio is done exits without waiting for input."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def put(line: str | None) -> bool:
        try:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        except RuntimeError:  # the event loop has closed: the speaker is done
            return False
        return True

    def read() -> None:
        while (line := sys.stdin.readline()) and put(line):
            pass
        put(None)

    threading.Thread(target=read, name="speaker-commands", daemon=True).start()
    return lines


def command_message(line: str) -> dict | str:
    """The message a command line sends, or what is wrong with it."""
    words = line.split()
    if words[:1] == ["volume"]:
        try:
            volume = float(words[1]) if len(words) == 2 else -1.0
        except ValueError:
            volume = -1.0
        if not 0.0 <= volume <= 1.0:
            return "usage: volume <0..1>, e.g. volume 0.5"
        return {"action": "setVolume", "volume": volume}
    if len(words) == 1 and words[0] in COMMANDS:
        return {"action": COMMANDS[words[0]]}
    return f"unknown command {line.strip()!r}; commands: pause, resume, mute, unmute, volume <0..1>, status, end, quit"


async def commands(link: SpeakerLink, lines: asyncio.Queue[str | None]) -> str:
    """Send each command typed; returns ``end`` or ``quit`` when one was, ``eof`` at the end of input."""
    print("commands: pause, resume, mute, unmute, volume <0..1>, status, end, quit", flush=True)
    while True:
        line = await lines.get()
        if line is None:
            return "eof"
        if not line.strip():
            continue
        if line.split() == ["quit"]:
            return "quit"
        message = command_message(line)
        if isinstance(message, str):
            print(message, file=sys.stderr, flush=True)
            continue
        await link.send(message)
        if message["action"] == "endSession":
            return "end"


def main(argv: list[str] | None = None) -> int:
    return run_client("broadcast-speaker", run(parse(argv)))
