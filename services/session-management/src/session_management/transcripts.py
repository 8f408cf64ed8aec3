"""Reading a session's kept transcript (``getTranscript``): who may read which language, and paging.

A listener reads its own session in its own language; the speaker reads any language of the
session it speaks in, also after ``endSession`` while its connection stays open. Pages hold whole
finals and stay under :data:`PAGE_BYTES`, well below API Gateway's 128 KB per message.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from broadcast_shared.errors import BroadcastError, ErrorCode
from broadcast_shared.messages.outbound import TranscriptLine, TranscriptPage
from broadcast_shared.notifier import encode
from broadcast_shared.repositories.records import Connection, Role, Session
from broadcast_shared.repositories.transcripts import TranscriptEntry

if TYPE_CHECKING:
    from session_management.app import SessionRuntime

#: the most a page's encoded JSON may hold
PAGE_BYTES = 96 * 1024
#: finals read from DynamoDB per page at most (a final is at most a few KB, so they fit in one Query)
PAGE_ITEMS = 100
LONGEST_TOKEN = "0" * 12 + "#" + "x" * 128


class TranscriptService:
    def __init__(self, runtime: SessionRuntime) -> None:
        self._rt = runtime
        self._transcripts = runtime.transcripts

    def page(self, connection: Connection, language: str | None, after: str | None) -> TranscriptPage:
        session, language = self._readable(connection, language)
        session_id = session.session_id
        entries, more = self._transcripts.page(session_id, language, after, PAGE_ITEMS)
        lines: list[TranscriptLine] = []
        # the page around its lines, with the longest token it may carry
        page = TranscriptPage(
            session_id=session_id,
            language=language,
            segments=[],
            next_token=LONGEST_TOKEN,
            title=session.title,
            presenter=session.presenter,
        )
        size = len(encode(page))
        for entry in entries:
            line = _line(entry)
            line_size = len(json.dumps(line.to_wire(), ensure_ascii=False).encode()) + 1
            if lines and size + line_size > PAGE_BYTES:
                more = True
                break
            lines.append(line)
            size += line_size
        next_token = entries[len(lines) - 1].position if more and lines else None
        return page.model_copy(update={"segments": lines, "next_token": next_token})

    def _readable(self, connection: Connection, language: str | None) -> tuple[Session, str]:
        """The session and language this connection may read, or the coded refusal."""
        if not connection.session_id:
            raise BroadcastError(ErrorCode.NOT_IN_SESSION, "create or join a session first")
        session = self._rt.sessions.get(connection.session_id)
        if session is None:
            raise BroadcastError(ErrorCode.SESSION_NOT_FOUND, "the session's records have expired")
        if connection.role is Role.SPEAKER:
            if session.speaker_connection_id != connection.connection_id:
                raise BroadcastError(ErrorCode.FORBIDDEN, "only the session's speaker may read every language")
            return session, language or session.source_language
        own = connection.target_language
        if not own:
            raise BroadcastError(ErrorCode.NOT_IN_SESSION, "join a session before asking for its transcript")
        if language is not None and language != own:
            raise BroadcastError(
                ErrorCode.FORBIDDEN, "a listener reads the transcript in its own language", {"role": "listener"}
            )
        return session, own


def _line(entry: TranscriptEntry) -> TranscriptLine:
    return TranscriptLine(
        segment_id=entry.segment_id,
        text=entry.text,
        start_time=entry.start_time,
        end_time=entry.end_time,
        translated=entry.translated,
    )
