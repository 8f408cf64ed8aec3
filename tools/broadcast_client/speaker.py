"""Speaker: create a session and stream a WAV file or the microphone with sendAudio.

Without --wav or --mic it reads commands from standard input: pause, resume, mute,
unmute, volume <0..1>, status, end, quit.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import time
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
        if args.wav or args.mic:
            await stream(ws, args)
            await asyncio.sleep(args.linger)
            if args.end:
                await ws.send(json.dumps({"action": "endSession"}))
                await asyncio.sleep(1)
        else:
            await commands(ws)
        printer.cancel()


async def stream(ws, args: argparse.Namespace) -> None:
    source = microphone(args.chunk_ms) if args.mic else chunks(read_wav(args.wav), args.chunk_ms)
    started = time.monotonic()
    sent = 0.0  # seconds of audio sent
    for sequence, chunk in enumerate(source):
        message = {"action": "sendAudio", "audio": base64.b64encode(chunk).decode(), "sequence": sequence}
        await ws.send(json.dumps(message))
        sent += len(chunk) / (SAMPLE_RATE * 2)
        if args.wav and not args.fast:
            await asyncio.sleep(max(0.0, started + sent - time.monotonic()))


async def commands(ws) -> None:
    loop = asyncio.get_running_loop()
    print("commands: pause, resume, mute, unmute, volume <0..1>, status, end, quit", flush=True)
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        words = line.split()
        if not line or words[:1] == ["quit"]:
            return
        if not words:
            continue
        if words[0] == "volume" and len(words) == 2:
            await ws.send(json.dumps({"action": "setVolume", "volume": float(words[1])}))
        elif words[0] in COMMANDS:
            await ws.send(json.dumps({"action": COMMANDS[words[0]]}))
        else:
            print(f"unknown command {words[0]!r}", flush=True)


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
