"""The transcription worker: owns one Kinesis shard's sessions for one invocation.

The event source mapping delivers a batch for a shard and waits for it (one batch per
shard at a time). The worker transcribes the batch, then keeps reading the same shard
itself, feeding the sessions' recogniser streams as audio arrives, until the shard has
been idle for ``shard_idle_seconds`` (and no session holds audio for a stream the quota refused)
or the invocation nears its deadline. Then it closes
every stream (flushing final results) at once, each given what is left of the invocation
less ``SHUTDOWN_RESERVE_SECONDS`` (at most ``FINISH_TIMEOUT_SECONDS``), records how far
its reader got (the shard's position, :class:`ShardPositionRepository`) and returns.

The mapping's checkpoint moves only by the batches it delivers, so its next batches hold
records an earlier reader consumed: those at or behind the shard's position are skipped
at once (``RecordsBehindPosition``), and the reader starts after the position, not after
the batch, so no invocation pages through what was read before. A page read far behind the
tip holds minutes of audio: the reader feeds it to the recognisers ``FEED_RECORDS`` records at a
time and looks at the deadline between them, so a loaded invocation still stops in time and
records its position (recognising a whole page could outlast the margin, and Lambda would end the
invocation before it recorded anything). An invocation whose batch
is wholly behind the position and whose reader finds the shard at its tip returns at once
(the mapping catching up after a talk). How late the reader is (GetRecords'
``MillisBehindLatest``, or how long a page's oldest record waited, whichever is more) is
published every ``READ_LAG_REPORT_SECONDS`` as ``AudioReadBehindLatest``: what listeners wait
for, which the mapping's IteratorAge is not.
docs/ARCHITECTURE.md ("Talks longer than an invocation") has the failure modes.

A session whose processing raises is isolated: its stream is abandoned, its further
records are skipped for this invocation, and its first record of the delivered batch
is returned for ``batchItemFailures`` (the mapping retries from there, bisects, and
finally hands the record to the on-failure destination); the other sessions on the
shard go on. The shard's position then stays at the last page read before the failure,
so the next invocation reads the failed session's audio again.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from itertools import batched
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from pydantic import ValidationError

from audio_transcription.checkpoints import ShardPositionRepository, at_or_before
from audio_transcription.chunks import AudioChunk
from audio_transcription.transcription import FINISH_TIMEOUT_SECONDS, Dependencies, SessionTranscriber
from broadcast_shared.errors import invalid
from broadcast_shared.meter import scope as meter_scope
from broadcast_shared.observability import logger, metrics

#: time kept after the streams are closed, to return before Lambda's deadline
SHUTDOWN_RESERVE_SECONDS = 2.0
#: records of a page fed to the recognisers between two looks at the deadline: a few seconds of audio (2 s of
#: the pages' 200-ms chunks; 7.5 s at most, the largest ``sendAudio`` chunk being 750 ms)
FEED_RECORDS = 10
#: how often the reader's lag behind the shard's tip is published while it reads
READ_LAG_REPORT_SECONDS = 10.0


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
        #: how far the last page left the reader behind the shard's tip (GetRecords' MillisBehindLatest), milliseconds
        self.behind_latest_ms: int | None = None
        #: when the last page's first record reached the stream (epoch seconds); None for an empty page
        self.oldest_arrival: float | None = None

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
        self.behind_latest_ms = page.get("MillisBehindLatest")
        records = page.get("Records", [])
        arrival = records[0].get("ApproximateArrivalTimestamp") if records else None
        self.oldest_arrival = arrival.timestamp() if arrival is not None else None
        return [ShardRecord(self._shard_id, r["SequenceNumber"], r["Data"]) for r in records]

    @property
    def at_tip(self) -> bool:
        return not self.behind_latest_ms

    def lag_ms(self, now: float) -> int | None:
        """How late the reader is: what the last page left unread, or how long its oldest record waited to be read
        (an invocation boundary's hand-over shows here), whichever is more."""
        if self.behind_latest_ms is None:
            return None
        waited = 0 if self.oldest_arrival is None else int((now - self.oldest_arrival) * 1000)
        return max(self.behind_latest_ms, waited)


class TranscriptionWorker:
    def __init__(
        self,
        deps: Dependencies,
        kinesis: Any,
        positions: ShardPositionRepository,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._deps = deps
        self._kinesis = kinesis
        self._positions = positions
        self._sleep = sleep

    def prepare(self, language: str) -> None:
        """Load the recogniser for a session about to start (a warm-up from ``createSession``)."""
        self._deps.recognizer.prepare(language)

    def run(self, records: list[ShardRecord], stream_arn: str, remaining_seconds: Callable[[], float]) -> list[str]:
        """The sequence numbers of the delivered records to report as failed (one per failed session)."""
        if not records:
            return []
        settings = self._deps.settings
        shard_id = records[-1].shard_id
        sessions = _Sessions(self._deps, {record.sequence_number for record in records})
        start = self._positions.get(stream_arn, shard_id)
        # The batch is in shard order: the records an earlier reader consumed come first.
        fresh = [record for record in records if not at_or_before(record.sequence_number, start)]
        metrics.add_metric(name="RecordsBehindPosition", unit=MetricUnit.Count, value=len(records) - len(fresh))
        position = start
        lag = _ReadLag(self._deps.clock.now())
        try:
            self._consume(fresh, sessions)
            if fresh and not sessions.failed:
                position = fresh[-1].sequence_number
            after = max(records[-1].sequence_number, start or "0", key=int)
            reader = ShardReader(self._kinesis, stream_arn, shard_id, after)
            last_data = self._deps.clock.now()

            def in_time() -> bool:
                return remaining_seconds() > settings.deadline_margin_seconds

            while in_time():
                page = reader.read()
                now = self._deps.clock.now()
                lag.observe(reader.lag_ms(now), now)
                if not fresh and not page and reader.at_tip and not sessions.live():
                    logger.info("the shard's position is at its tip; nothing to read", extra={"position": start})
                    break
                if page:
                    fed = self._feed(page, sessions, in_time)
                    last_data = now
                    if not sessions.failed:
                        position = fed
                for session_id, transcriber in sessions.live():
                    sessions.guard(session_id, "", partial(transcriber.tick, now))
                if not page:
                    # A session holding audio for a stream the quota refused keeps the invocation reading (and
                    # retrying) until its deadline: ending would drop what it holds.
                    if now - last_data >= settings.shard_idle_seconds and not sessions.waiting_for_streams():
                        break
                    self._sleep(settings.shard_poll_seconds)
        finally:
            self._close_all(sessions, remaining_seconds())
            lag.report(self._deps.clock.now())
            self._keep(stream_arn, shard_id, start, position)
        return sessions.failed_records()

    def _keep(self, stream_arn: str, shard_id: str, start: str, position: str) -> None:
        """Record how far this invocation's reader got, every chunk up to there claimed."""
        if position == start:
            return
        if not self._positions.advance(stream_arn, shard_id, start, position, self._deps.clock.now()):
            logger.warning("another invocation moved the shard's position", extra={"shard_id": shard_id})
            metrics.add_metric(name="ShardPositionOvertaken", unit=MetricUnit.Count, value=1)

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

    def _feed(self, page: list[ShardRecord], sessions: _Sessions, in_time: Callable[[], bool]) -> str:
        """Consume the page in order, ``FEED_RECORDS`` at a time, while ``in_time()``; the sequence number of the
        last record consumed (what follows it is the next invocation's)."""
        for piece in batched(page, FEED_RECORDS):
            self._consume(list(piece), sessions)
            if not in_time():
                break
        return piece[-1].sequence_number

    def _consume(self, records: list[ShardRecord], sessions: _Sessions) -> None:
        by_session: dict[str, list[tuple[str, AudioChunk]]] = defaultdict(list)
        for record in records:
            try:
                chunk = AudioChunk.decode(record.data)
            except ValidationError as exc:
                error = invalid(exc)
                logger.error(
                    "unreadable audio record skipped",
                    extra={"record": record.sequence_number, "code": error.code.value, "reason": error.message},
                )
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

    def waiting_for_streams(self) -> bool:
        return any(transcriber.waiting_for_stream for transcriber in self._transcribers.values())

    def guard(self, session_id: str, first_record: str, work: Callable[[], None]) -> None:
        """Run one session's work; if it raises, that session alone stops for this invocation."""
        if session_id in self._failed:
            return
        try:
            with meter_scope(session=session_id):  # its AWS calls are counted for the session
                work()
        except Exception:  # noqa: BLE001 - one session's failure must not fail the shard's other sessions
            logger.exception("audio session failed; its records are reported", extra={"session_id": session_id})
            metrics.add_metric(name="AudioSessionsFailed", unit=MetricUnit.Count, value=1)
            self._failed[session_id] = first_record if first_record in self._delivered else ""
            transcriber = self._transcribers.pop(session_id, None)
            if transcriber is not None:
                transcriber.abandon()

    @property
    def failed(self) -> bool:
        """Whether a session has failed in this invocation."""
        return bool(self._failed)

    def failed_records(self) -> list[str]:
        return sorted({record for record in self._failed.values() if record}, key=int)


class _ReadLag:
    """The reader's worst lag behind the shard's tip, published every ``READ_LAG_REPORT_SECONDS`` as its own EMF
    line (not at the end of the invocation, which may be 15 minutes away) so its alarm sees a reader falling behind
    while it reads."""

    def __init__(self, now: float) -> None:
        self._worst: int | None = None
        self._since = now

    def observe(self, behind_ms: int | None, now: float) -> None:
        if behind_ms is not None:
            self._worst = max(self._worst or 0, behind_ms)
        if now - self._since >= READ_LAG_REPORT_SECONDS:
            self.report(now)

    def report(self, now: float) -> None:
        if self._worst is not None:
            with single_metric(
                name="AudioReadBehindLatest",
                unit=MetricUnit.Milliseconds,
                value=self._worst,
                default_dimensions=metrics.default_dimensions,
            ):
                pass
        self._worst, self._since = None, now
