"""Speaker: create a session and stream a WAV file or the microphone with sendAudio.

Commands, one a line on standard input, also while streaming: pause, resume, mute,
unmute, volume <0..1>, status, end, quit. While streaming, the end of standard input
leaves the stream going; end or quit stops it.
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

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from broadcast_client.audio import MAX_CHUNK_MS, SAMPLE_RATE, chunks, microphone, read_wav
from broadcast_client.connection import DEFAULT_URL, emit, fail, url_for

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


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="speaker", description=__doc__)
    parser.add_argument("--url", default=os.environ.get("BROADCAST_URL", DEFAULT_URL), help="WebSocket API URL")
    parser.add_argument("--token", default=os.environ.get("SPEAKER_TOKEN"), help="speaker JWT (default: a local one)")
    parser.add_argument("--source-language", default="en")
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
    return parser.parse_args(argv)


def local_token() -> str:
    from broadcast_tools.local_auth import token

    return token()


async def run(args: argparse.Namespace) -> None:
    token = args.token or local_token()
    async with connect(url_for(args.url, role="speaker", token=token), max_size=2**20) as ws:
        await ws.send(json.dumps({"action": "createSession", "sourceLanguage": args.source_language}))
        created = json.loads(await ws.recv())
        if created.get("type") != "sessionCreated":
            fail(f"could not create a session: {created}")
        print(f"session {created['sessionId']}: listeners join with --session {created['sessionId']}", flush=True)
        printer = asyncio.create_task(print_messages(ws, args.json))
        control = asyncio.create_task(commands(ws, stdin_lines()))
        if args.wav or args.mic:
            await stream_under_control(ws, args, control)
        else:
            await control
        if control.done() and not control.cancelled() and control.result() == "end":
            await asyncio.sleep(1)  # the sessionEnded answer
        printer.cancel()


async def stream_under_control(ws, args: argparse.Namespace, control: asyncio.Task[str]) -> None:
    """Stream while taking commands; ``end`` or ``quit`` stops the stream, the end of input does not."""
    streaming = asyncio.create_task(stream(ws, args))
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
        await ws.send(json.dumps({"action": "endSession"}))
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


async def stream(ws, args: argparse.Namespace) -> None:
    started = time.monotonic()
    sent = 0.0  # seconds of audio sent
    sequence = -1
    async for chunk in audio(args):
        sequence += 1
        message = {"action": "sendAudio", "audio": base64.b64encode(chunk).decode(), "sequence": sequence}
        await ws.send(json.dumps(message))
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


async def commands(ws, lines: asyncio.Queue[str | None]) -> str:
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
        await ws.send(json.dumps(message))
        if message["action"] == "endSession":
            return "end"


async def print_messages(ws, raw: bool) -> None:
    try:
        async for text in ws:
            emit(json.loads(text), raw)
    except ConnectionClosed:
        pass


def main(argv: list[str] | None = None) -> int:
    try:
        asyncio.run(run(parse(argv)))
    except KeyboardInterrupt:
        pass
    return 0
