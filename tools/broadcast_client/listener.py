"""Listener: join a session in a target language, print captions, optionally save the audio."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
from collections import defaultdict
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from broadcast_client.captions import Captions
from broadcast_client.connection import DEFAULT_URL, emit, fail, url_for


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="listener", description=__doc__)
    parser.add_argument("--url", default=os.environ.get("BROADCAST_URL", DEFAULT_URL), help="WebSocket API URL")
    parser.add_argument("--session", required=True, help="session id, e.g. golden-eagle-misty-otter-4271")
    parser.add_argument("--language", required=True, help="target language, e.g. es")
    parser.add_argument("--save-audio", type=Path, help="write each received speech segment into this folder")
    parser.add_argument("--json", action="store_true", help="print server messages as raw JSON")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    audio: dict[str, dict[int, bytes]] = defaultdict(dict)
    captions = Captions()
    if args.save_audio:
        args.save_audio.mkdir(parents=True, exist_ok=True)
    async with connect(url_for(args.url, role="listener"), max_size=2**20) as ws:
        await ws.send(json.dumps({"action": "joinSession", "sessionId": args.session, "targetLanguage": args.language}))
        try:
            async for text in ws:
                message = json.loads(text)
                if message.get("type") == "audio":
                    if message["segmentId"] in audio:  # the rest of a final shown (not of a duplicate)
                        save(message, audio, args.save_audio)
                    continue
                if message.get("type") == "translation" and not captions.accept(message):
                    continue  # a duplicate, or a partial or final that came too late
                if message.get("type") == "translation" and message.get("audio"):
                    save({**message, **message["audio"]}, audio, args.save_audio)
                emit(message, args.json)
                if message.get("type") == "error" and message.get("action") == "joinSession":
                    fail("could not join")
                if message.get("type") == "sessionEnded":
                    return
        except ConnectionClosed:
            return


EXTENSIONS = {"audio/mpeg": "mp3", "audio/ogg": "ogg", "audio/wav": "wav"}


def save(message: dict, audio: dict[str, dict[int, bytes]], folder: Path | None) -> None:
    """Collect a segment's speech pieces (``chunkIndex``); write the file when the ``final`` one arrives."""
    parts = audio[message["segmentId"]]
    parts[int(message.get("chunkIndex", 0))] = base64.b64decode(message["data"])
    if not message.get("final", True):
        return
    if folder is not None:
        path = folder / f"{message['segmentId']}.{EXTENSIONS.get(message.get('format', ''), 'bin')}"
        path.write_bytes(b"".join(parts[i] for i in sorted(parts)))
        print(f"[{message.get('language')}] audio saved to {path}", flush=True)
    del audio[message["segmentId"]]


def main(argv: list[str] | None = None) -> int:
    try:
        asyncio.run(run(parse(argv)))
    except KeyboardInterrupt:
        pass
    return 0
