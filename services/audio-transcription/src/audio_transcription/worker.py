"""The transcription worker: owns one Kinesis shard's sessions for one invocation.

The event source mapping delivers a batch for a shard and waits for it (one batch per
shard at a time). The worker transcribes the batch, then keeps reading the same shard
itself, from the batch's last record, feeding the sessions' recogniser streams as
audio arrives, until the shard has been idle for ``shard_idle_seconds`` or the
invocation nears its deadline. Then it closes every stream (flushing final results)
at once, each given what is left of the invocation less ``SHUTDOWN_RESERVE_SECONDS``
(at most ``FINISH_TIMEOUT_SECONDS``), and returns. The mapping's next batches hold
records it already read; each session's checkpoint (``audioRecord``) skips them.
docs/ARCHITECTURE.md has the failure modes.

A session whose processing raises is isolated: its stream is abandoned, its further
records are skipped for this invocation, and its first record of the delivered batch
is returned for ``batchItemFailures`` (the mapping retries from there, bisects, and
finally hands the record to the on-failure destination); the other sessions on the
shard go on.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from audio_transcription.chunks import AudioChunk
from audio_transcription.transcription import FINISH_TIMEOUT_SECONDS, Dependencies, SessionTranscriber
from broadcast_shared.observability import logger, metrics

#: time kept after the streams are closed, to return before Lambda's deadline
SHUTDOWN_RESERVE_SECONDS = 2.0


@dataclass(frozen=True)
class ShardRecord:
    shard_id: str
    sequence_number: str
    data: bytes


class ShardReader:
    """Reads a shard after a given record, as the event source mapping would next."""

    def __init__(self, kinesis: Any, stream_arn: str, shard_id: str, after: str) -> None:
        self._kinesis = kinesis
        self._stream_arn = stream_arn
        self._shard_id = shard_id
        self._after = after
        self._iterator: str | None = None

    def read(self, limit: int = 500) -> list[ShardRecord]:
        if self._iterator is None:
            self._iterator = self._kinesis.get_shard_iterator(
                StreamARN=self._stream_arn,
                ShardId=self._shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                StartingSequenceNumber=self._after,
            )["ShardIterator"]
        page = self._kinesis.get_records(ShardIterator=self._iterator, Limit=limit, StreamARN=self._stream_arn)
        self._iterator = page.get("NextShardIterator") or self._iterator
        return [ShardRecord(self._shard_id, r["SequenceNumber"], r["Data"]) for r in page.get("Records", [])]


class TranscriptionWorker:
    def __init__(self, deps: Dependencies, kinesis: Any, sleep: Callable[[float], None] = time.sleep) -> None:
        self._deps = deps
        self._kinesis = kinesis
        self._sleep = sleep

    def prepare(self, language: str) -> None:
        """Load the recogniser for a session about to start (a warm-up from ``createSession``)."""
        self._deps.recognizer.prepare(language)

    def run(self, records: list[ShardRecord], stream_arn: str, remaining_seconds: Callable[[], float]) -> list[str]:
        """The sequence numbers of the delivered records to report as failed (one per failed session)."""
        settings = self._deps.settings
        sessions = _Sessions(self._deps, {record.sequence_number for record in records})
        try:
            self._consume(records, sessions)
            if not records:
                return sessions.failed_records()
            reader = ShardReader(self._kinesis, stream_arn, records[-1].shard_id, records[-1].sequence_number)
            last_data = self._deps.clock.now()
            while remaining_seconds() > settings.deadline_margin_seconds:
                page = reader.read()
                now = self._deps.clock.now()
                if page:
                    self._consume(page, sessions)
                    last_data = now
                for session_id, transcriber in sessions.live():
                    sessions.guard(session_id, "", partial(transcriber.tick, now))
                if not page:
                    if now - last_data >= settings.shard_idle_seconds:
                        break
                    self._sleep(settings.shard_poll_seconds)
        finally:
            self._close_all(sessions, remaining_seconds())
        return sessions.failed_records()

    @staticmethod
    def _close_all(sessions: _Sessions, remaining: float) -> None:
        """Release held chunks (claims are DynamoDB writes, made one by one), then end every stream together,
        each within the invocation's remaining time less a reserve; a session that fails fails alone."""
        for session_id, transcriber in sessions.live():
            sessions.guard(session_id, "", transcriber.flush)
        live = sessions.live()
        if not live:
            return
        timeout = max(0.0, min(FINISH_TIMEOUT_SECONDS, remaining - SHUTDOWN_RESERVE_SECONDS))
        with ThreadPoolExecutor(max_workers=len(live), thread_name_prefix="close") as pool:
            closing = [pool.submit(sessions.guard, sid, "", partial(t.close, timeout)) for sid, t in live]
            for done in closing:
                done.result()

    def _consume(self, records: list[ShardRecord], sessions: _Sessions) -> None:
        by_session: dict[str, list[tuple[str, AudioChunk]]] = defaultdict(list)
        for record in records:
            try:
                chunk = AudioChunk.decode(record.data)
            except (ValueError, KeyError, TypeError):
                logger.error("unreadable audio record skipped", extra={"record": record.sequence_number})
                metrics.add_metric(name="AudioRecordsUnreadable", unit=MetricUnit.Count, value=1)
                continue
            by_session[chunk.session_id].append((record.sequence_number, chunk))
        for session_id, chunks in by_session.items():
            sessions.guard(session_id, chunks[0][0], partial(sessions.add, session_id, chunks))


class _Sessions:
    """One worker invocation's transcribers, and the sessions that failed in it."""

    def __init__(self, deps: Dependencies, delivered: set[str]) -> None:
        self._deps = deps
        self._delivered = delivered
        self._transcribers: dict[str, SessionTranscriber] = {}
        self._failed: dict[str, str] = {}

    def get(self, session_id: str) -> SessionTranscriber:
        transcriber = self._transcribers.get(session_id)
        if transcriber is None:
            transcriber = self._transcribers[session_id] = SessionTranscriber(session_id, self._deps)
            if not transcriber.known:
                logger.warning("audio for an unknown session skipped", extra={"session_id": session_id})
        return transcriber

    def add(self, session_id: str, chunks: list[tuple[str, AudioChunk]]) -> None:
        transcriber = self.get(session_id)
        if transcriber.known:
            transcriber.add(chunks)

    def live(self) -> list[tuple[str, SessionTranscriber]]:
        return list(self._transcribers.items())

    def guard(self, session_id: str, first_record: str, work: Callable[[], None]) -> None:
        """Run one session's work; if it raises, that session alone stops for this invocation."""
        if session_id in self._failed:
            return
        try:
            work()
        except Exception:  # noqa: BLE001 - one session's failure must not fail the shard's other sessions
            logger.exception("audio session failed; its records are reported", extra={"session_id": session_id})
            metrics.add_metric(name="AudioSessionsFailed", unit=MetricUnit.Count, value=1)
            self._failed[session_id] = first_record if first_record in self._delivered else ""
            transcriber = self._transcribers.pop(session_id, None)
            if transcriber is not None:
                transcriber.abandon()

    def failed_records(self) -> list[str]:
        return sorted({record for record in self._failed.values() if record}, key=int)
