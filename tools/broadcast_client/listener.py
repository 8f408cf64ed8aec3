"""Listener: join a session in a target language, print captions, optionally save the audio.

It sends heartbeat every --heartbeat seconds. When the connection drops it reconnects (websockets' backoff) and
joins the session again in the same language; after every join it reads the talk so far (getTranscript) and
shows what it had not shown, so captions stay in order, each final once, across reconnects. Exit status: 0 when
the session ended, 1 when it could not join or gave up reconnecting (after --give-up-after seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from broadcast_client.captions import Captions
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

USER_AGENT = "broadcast-listener"

Send = Callable[[str], Awaitable[None]]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="broadcast-listener", description=__doc__)
    parser.add_argument("--url", default=os.environ.get("BROADCAST_URL", DEFAULT_URL), help="WebSocket API URL")
    parser.add_argument("--session", required=True, help="session id, e.g. golden-eagle-misty-otter-4271")
    parser.add_argument("--language", required=True, help="target language, e.g. es")
    parser.add_argument(
        "--passcode",
        default=os.environ.get("BROADCAST_PASSCODE"),
        help="a private talk's passcode (default: $BROADCAST_PASSCODE, which keeps it out of the process list)",
    )
    parser.add_argument("--save-audio", type=Path, help="write each received speech segment into this folder")
    parser.add_argument("--json", action="store_true", help="print server messages as raw JSON")
    parser.add_argument(
        "--no-captions",
        dest="captions",
        action="store_false",
        help="speech only: finals (with their speech), no partial captions (joinSession captions: false)",
    )
    add_connection_options(parser)
    return parser.parse_args(argv)


class Listener:
    """What one listener shows, across all its connections to one session.

    After each ``sessionJoined`` it reads the talk so far, page after page; live captions arriving meanwhile
    are held, then shown after the talk so far. Everything shown goes through one :class:`Captions`, so a
    final already shown (live, or before a drop) is not shown again and nothing goes backwards.
    """

    def __init__(
        self,
        session_id: str,
        language: str,
        raw: bool,
        save_audio: Path | None,
        passcode: str | None = None,
        captions: bool = True,
    ) -> None:
        self.session_id, self.language, self.raw, self.save_audio = session_id, language, raw, save_audio
        #: a private talk's passcode, sent with every join
        self.passcode = passcode
        #: false: joined for finals only (no partials)
        self.wants_partials = captions
        self.captions = Captions()
        self.joins = 0
        #: the current connection's join was answered
        self.joined_here = False
        self._audio: dict[str, dict[int, bytes]] = defaultdict(dict)
        #: live captions held while the talk so far is read; None when no read is under way
        self._held: list[dict[str, Any]] | None = None
        self._earlier: list[dict[str, Any]] = []

    def join_message(self) -> str:
        self.joined_here = False
        join: dict[str, Any] = {"action": "joinSession", "sessionId": self.session_id, "targetLanguage": self.language}
        if self.passcode:
            join["passcode"] = self.passcode
        if not self.wants_partials:
            join["captions"] = False
        return json.dumps(join)

    async def handle(self, message: dict[str, Any], send: Send) -> bool:
        """Show what ``message`` brings; True when the session ended."""
        kind = message.get("type")
        if is_gateway_answer(message) and not self.joined_here:
            raise NotAnswered(f"joinSession was not answered: {message['message']}")
        if kind == "sessionJoined":
            self.joins += 1
            self.joined_here = True
            self.show(message)
            self._held, self._earlier = [], []
            await send(json.dumps({"action": "getTranscript"}))
        elif kind == "transcriptPage" and self._held is not None:
            self._earlier += [
                {"type": "translation", "sessionId": message.get("sessionId"), "language": message.get("language")}
                | segment
                | {"isPartial": False}
                for segment in message.get("segments", [])
            ]
            if message.get("nextToken"):
                await send(json.dumps({"action": "getTranscript", "nextToken": message["nextToken"]}))
            else:
                self.catch_up()
        elif kind == "error" and message.get("action") == "getTranscript" and self._held is not None:
            note(f"the talk so far could not be read: {message.get('code')}: {message.get('message')}")
            self.catch_up()
        elif kind == "error" and message.get("action") == "joinSession":
            if self.joins and message.get("code") == "SESSION_NOT_FOUND":
                note(f"session {self.session_id} ended while reconnecting")
                return True
            raise ClientFailed(
                f"could not join session {self.session_id}: {message.get('code')}: {message.get('message')}"
            )
        elif kind in ("translation", "audio") and self._held is not None:
            self._held.append(message)
        else:
            if kind == "sessionEnded":
                self.catch_up()
            self.show(message)
            return kind == "sessionEnded"
        return False

    def catch_up(self) -> None:
        """Show the talk so far read (what was not shown yet), then the live captions held meanwhile. Also when
        the connection dropped during the read: the next join reads again."""
        earlier, held = self._earlier, self._held or []
        self._held, self._earlier = None, []
        for message in earlier + held:
            self.show(message)

    def show(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "audio":
            if message["segmentId"] in self._audio:  # the rest of a final shown (not of a duplicate)
                save(message, self._audio, self.save_audio)
            return
        if kind == "translation":
            if not self.captions.accept(message):
                return  # shown already, or a partial or final that came too late
            if message.get("audio"):
                save({**message, **message["audio"]}, self._audio, self.save_audio)
        emit(message, self.raw)


async def run(args: argparse.Namespace) -> None:
    """Returns when the session ended; raises :class:`ClientFailed` or :class:`GaveUp` otherwise."""
    if args.save_audio:
        args.save_audio.mkdir(parents=True, exist_ok=True)
    listener = Listener(args.session, args.language, args.json, args.save_audio, args.passcode, args.captions)
    reconnects = Reconnects(args.give_up_after)
    async for ws in reconnects.connections(url_for(args.url, role="listener"), USER_AGENT):
        # Heartbeats start once joined: API Gateway's answer to a failed request names no request, so until
        # then it can only be the join's.
        beat: asyncio.Task[None] | None = None
        reason = ""
        try:
            await ws.send(listener.join_message())
            async for text in ws:
                if await listener.handle(json.loads(text), ws.send):
                    return
                if beat is None and listener.joined_here:
                    beat = asyncio.create_task(heartbeats(ws.send, args.heartbeat))
        except ConnectionClosed:
            pass
        except NotAnswered as failed:
            reason = str(failed)
        finally:
            if beat is not None:
                beat.cancel()
        listener.catch_up()
        joined = listener.joined_here
        if joined:
            reconnects.usable()
        reason = reason or f"the connection closed ({ws.close_code} {ws.close_reason})".replace(" )", ")")
        note(f"{reason}; joining session {args.session} again in {args.language}")
        await reconnects.dropped(reason, was_usable=joined)


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
    return run_client("broadcast-listener", run(parse(argv)))
