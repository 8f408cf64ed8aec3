"""One session's transcription inside a worker: order, recogniser stream, stable segments.

The worker hands a :class:`SessionTranscriber` the session's chunks as it reads them.
The transcriber puts them back in order, claims them (see :mod:`checkpoints`), feeds
their audio to the session's recogniser stream and turns results into segments: each
goes to the speaker as a ``transcript`` message and to the translation pipeline.

Stream lifecycle: opened on the first audio; re-opened after an engine error, with
the audio since the last final result sent again so no speech is lost (a stream that
fails before any result means the recogniser cannot be reached: the speaker gets one
``TRANSCRIPTION_UNAVAILABLE`` error per outage, the audio goes on); refused for the account's
concurrent-stream quota (:class:`StreamRefused`), the audio is held (at most ``refused_hold_seconds``)
and the stream opened again with it after the SDK's backoff (:mod:`stream_retry`), the speaker told
``TRANSCRIPTION_THROTTLED`` once per outage, the listeners shown ``broadcastState.captionsDelayed`` until the
stream answers again (:meth:`SessionTranscriber._tell_audience`) and the refusal counted; rolled over
when it reaches ``max_stream_seconds``; closed (its last finals flushed) after
``silence_timeout_seconds`` without audio, when the worker's time runs out, or when
another worker has taken the session over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit

from audio_transcription.checkpoints import Checkpoint, CheckpointRepository
from audio_transcription.chunks import AudioChunk
from audio_transcription.dynamics import DynamicsTracker
from audio_transcription.engines import (
    EngineError,
    Recognition,
    Recognizer,
    RecognizerStream,
    StreamRefused,
    UnsupportedLanguage,
)
from audio_transcription.forwarder import SegmentForwarder
from audio_transcription.quality import MESSAGES, QualityMonitor
from audio_transcription.sequencing import Sequencer, SequenceReport
from audio_transcription.settings import AudioSettings, pcm_seconds
from audio_transcription.stabilizer import Stabilizer, StableText
from audio_transcription.stream_retry import StreamRetry
from broadcast_shared.clock import Clock
from broadcast_shared.control_queue import FollowUpQueue
from broadcast_shared.errors import ErrorCode
from broadcast_shared.languages import SOURCE_LOCALES
from broadcast_shared.messages.outbound import AudioQualityWarning, Error, Transcript
from broadcast_shared.messages.segments import TranscriptSegment
from broadcast_shared.messages.wire import WireModel
from broadcast_shared.meter import meter
from broadcast_shared.notifier import Notifier
from broadcast_shared.observability import count_by, logger, metrics
from broadcast_shared.repositories.sessions import MembershipConflict, SessionsRepository

#: how long closing a stream may wait for its last results
FINISH_TIMEOUT_SECONDS = 5.0
#: audio kept for replay into a re-opened stream (since the last final result)
MAX_REPLAY_SECONDS = 30.0


@dataclass(frozen=True)
class Dependencies:
    settings: AudioSettings
    recognizer: Recognizer
    checkpoints: CheckpointRepository
    sessions: SessionsRepository
    notifier: Notifier
    forwarder: SegmentForwarder
    clock: Clock
    #: the control queue, which tells the listeners that captions are held back, made at its first use (most worker
    #: environments never send to it, and an SQS client takes 50-90 ms to build); None: they are not told
    control: Callable[[], FollowUpQueue] | None = None


class SessionTranscriber:
    def __init__(self, session_id: str, deps: Dependencies) -> None:
        self.session_id = session_id
        self._deps = deps
        session = deps.sessions.get(session_id)
        self.known = session is not None
        self._speaker = session.speaker_connection_id if session else ""
        self._language = session.source_language if session else ""
        self._checkpoint = deps.checkpoints.get(session_id)
        #: chunks with the Kinesis sequence number each was read from
        self._sequencer: Sequencer[tuple[str, AudioChunk]] = Sequencer(
            self._checkpoint.sequence + 1, deps.settings.reorder_window, deps.settings.reorder_wait_seconds
        )
        self._offset = self._checkpoint.offset
        self._dynamics = DynamicsTracker()
        self._quality = QualityMonitor()
        self._stabilizer = self._new_stabilizer()
        self._stream: RecognizerStream | None = None
        self._stream_start = 0.0
        self._stream_label = ""
        self._replay: list[tuple[float, bytes]] = []
        self._last_audio_at: float | None = None
        self._unsupported = False
        #: whether the current stream has produced a result; whether the speaker was told of the current outage
        self._stream_answered = False
        self._outage_reported = False
        #: when a stream refused for the quota is tried again; whether the speaker was told of the refusal
        settings = deps.settings
        self._retry = StreamRetry(settings.stream_retry_base_seconds, settings.stream_retry_max_backoff_seconds)
        self._throttle_reported = False
        #: whether the session's listeners are shown captions held back (a worker before this one may have set it)
        self._audience_told_delayed = bool(session and session.captions_delayed)
        self.taken_over = False
        if self.known:
            deps.forwarder.warm_up(session_id, self._language)

    def add(self, records: Iterable[tuple[str, AudioChunk]]) -> None:
        """Chunks read from the shard, with their Kinesis sequence numbers, in shard order."""
        if self.taken_over:
            return
        report = SequenceReport()
        now = self._deps.clock.now()
        ready: list[tuple[str, AudioChunk]] = []
        for record, chunk in records:
            # Each chunk names the connection it came from, and the shard holds them as they arrived: a speaker
            # who resumed the session on a new connection gets its transcripts there as soon as one of its new
            # chunks is read, even those of audio sent before the drop, not at the next invocation.
            self._speaker = chunk.connection_id or self._speaker
            if self._checkpoint.read_before(record):
                metrics.add_metric(name="AudioRecordsAlreadyRead", unit=MetricUnit.Count, value=1)
                continue
            ready += self._sequencer.push(chunk.sequence, (record, chunk), report)
        # Once the whole batch is in: a chunk that was slower to land than the next ones may be later in this batch.
        self._process(ready + self._sequencer.expire(now, report), report)

    def flush(self) -> None:
        """Release everything held back (declaring gaps): the worker is about to stop."""
        if self.taken_over:
            return
        report = SequenceReport()
        self._process(self._sequencer.flush(report), report)

    def tick(self, now: float) -> None:
        """Release chunks whose wait for a missing one is over; collect results; close the stream after silence."""
        if self.taken_over:
            return
        report = SequenceReport()
        self._process(self._sequencer.expire(now, report), report)
        self._resume_if_due(now)
        if self._stream is None:
            return
        self._collect()
        if self._last_audio_at is not None and now - self._last_audio_at >= self._deps.settings.silence_timeout_seconds:
            logger.info("closing recogniser stream after silence", extra={"session_id": self.session_id})
            self._close_stream()

    @property
    def waiting_for_stream(self) -> bool:
        """Audio is held until a stream refused for the quota is let in (the worker keeps reading meanwhile)."""
        return self._retry.waiting and bool(self._replay)

    def close(self, timeout: float = FINISH_TIMEOUT_SECONDS) -> None:
        """Release what is held, end the stream (waiting at most ``timeout`` for its last results)."""
        self.flush()
        self._resume_if_due(self._deps.clock.now())
        if self.waiting_for_stream:
            self._drop_held("the worker stopped while the stream was refused")
        self._close_stream(timeout)
        self._deps.forwarder.drain(self.session_id)

    def abandon(self) -> None:
        """Stop after a failure: the stream is aborted, nothing more is published or claimed."""
        self.taken_over = True
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
            except Exception:  # noqa: BLE001 - the session has failed already; the shard goes on
                logger.warning("could not abort the recogniser stream", extra={"session_id": self.session_id})

    def _process(self, ready: list[tuple[str, AudioChunk]], report: SequenceReport) -> None:
        self._report(report)
        if not ready:
            return
        offset = self._offset + sum(chunk.duration for _, chunk in ready)
        last_record = max([self._checkpoint.record, *(record for record, _ in ready)], key=lambda r: int(r or 0))
        heard = self._checkpoint.heard + sum(chunk.duration for _, chunk in ready if not chunk.paused)
        claimed = Checkpoint(ready[-1][1].sequence, offset, last_record, heard)
        if not self._deps.checkpoints.claim(self.session_id, self._checkpoint, claimed):
            logger.warning("another worker has taken this session over", extra={"session_id": self.session_id})
            metrics.add_metric(name="SessionsTakenOver", unit=MetricUnit.Count, value=1)
            self.taken_over = True
            self._close_stream()
            return
        self._checkpoint = claimed
        for _, chunk in ready:
            self._transcribe(chunk)
            # Results chunk by chunk: a worker catching up on many chunks sends captions as it goes,
            # not all at once when the batch is done.
            self._collect()

    def _transcribe(self, chunk: AudioChunk) -> None:
        start = self._offset
        self._offset += chunk.duration
        if chunk.paused:
            return
        if chunk.measurement is not None:
            self._dynamics.add(start, chunk.measurement)
            for issue in self._quality.add(chunk.measurement):
                count_by("AudioQualityWarnings", issue=issue.value)
                self._tell_speaker(AudioQualityWarning(issue=issue, message=MESSAGES[issue], sequence=chunk.sequence))
        if self._unsupported:
            return
        now = self._deps.clock.now()
        self._last_audio_at = now
        if self._retry.waiting:
            self._hold(start, chunk.pcm)
            self._resume_if_due(now)
            return
        if self._stream is not None and start - self._stream_start >= self._deps.settings.max_stream_seconds:
            logger.info("rolling the recogniser stream over at its limit", extra={"session_id": self.session_id})
            self._close_stream()
        if self._stream is None and not self._open(start, chunk.sequence):
            if self._retry.waiting:
                self._hold(start, chunk.pcm)
            return
        stream = self._stream
        assert stream is not None  # opened above
        self._replay.append((start, chunk.pcm))
        try:
            stream.send(chunk.pcm)
        except StreamRefused as exc:
            self._throttled(exc)
        except EngineError as exc:
            self._reopen(exc)
        else:
            self._streamed(chunk.pcm, streams=0)

    def _open(self, start: float, sequence: int) -> bool:
        locale = SOURCE_LOCALES.get(self._language, self._language)
        try:
            self._stream = self._deps.recognizer.open(locale)
        except UnsupportedLanguage as exc:
            logger.warning("the recogniser cannot serve this language", extra={"error": str(exc)})
            metrics.add_metric(name="TranscriptionUnsupportedLanguage", unit=MetricUnit.Count, value=1)
            self._unsupported = True
            return False
        except StreamRefused as exc:
            self._throttled(exc)
            return False
        except EngineError as exc:
            logger.warning("could not open a recogniser stream", extra={"error": str(exc)})
            metrics.add_metric(name="RecognizerOpenFailed", unit=MetricUnit.Count, value=1)
            self._unreachable(exc)
            return False
        self._stream_answered = False
        self._stream_start = start
        self._stream_label = f"s{sequence}"
        self._replay = []
        self._stabilizer = self._new_stabilizer()
        metrics.add_metric(name="RecognizerStreamsOpened", unit=MetricUnit.Count, value=1)
        self._streamed(b"", streams=1)
        return True

    def _streamed(self, pcm: bytes, streams: int) -> None:
        """Transcribe streaming bills the seconds of audio streamed (the cost meter; any recogniser counts)."""
        seconds = pcm_seconds(pcm)
        units = {"Calls": streams, "AudioSeconds": seconds}
        meter.record("transcribe", "StartStreamTranscription", units, session=self.session_id, language=self._language)

    def _reopen(self, error: EngineError) -> None:
        logger.warning("recogniser stream failed; re-opening it", extra={"error": str(error)})
        metrics.add_metric(name="RecognizerStreamsReopened", unit=MetricUnit.Count, value=1)
        replay, self._replay = self._replay, []
        if self._stream is not None:
            self._stream.abort()
        self._stream = None
        self._start_with(replay)

    def _start_with(self, replay: list[tuple[float, bytes]]) -> None:
        """A new stream from the first of ``replay``'s audio, given all of it; refused, the audio stays held."""
        if not replay:
            return
        if not self._open(replay[0][0], -1):
            if self._retry.waiting:
                self._replay = replay
            return
        stream = self._stream
        assert stream is not None  # opened above
        self._stream_label = f"r{replay[0][0]:.2f}"
        self._replay = replay
        # The stream's silence is counted from the audio it is given now (held audio may be older than the timeout).
        self._last_audio_at = self._deps.clock.now()
        try:
            for _, pcm in replay:
                stream.send(pcm)
                self._streamed(pcm, streams=0)
                # Results as the replayed audio is recognised (a held minute is not one wait); a failure is handled
                # below, never by re-opening from here.
                self._publish_all(stream.results(), stream)
        except StreamRefused as exc:
            self._throttled(exc)
        except EngineError as exc:
            logger.warning("re-opened recogniser stream failed too", extra={"error": str(exc)})
            if not self._stream_answered:
                self._unreachable(exc)
            stream.abort()
            self._stream = None

    def _collect(self) -> None:
        if self._stream is None:
            return
        try:
            results = self._stream.results()
        except StreamRefused as exc:
            self._throttled(exc)
            return
        except EngineError as exc:
            if not self._stream_answered:
                self._unreachable(exc)
            self._reopen(exc)
            return
        self._publish_all(results, self._stream)

    def _close_stream(self, timeout: float = FINISH_TIMEOUT_SECONDS) -> None:
        if self._stream is None:
            return
        stream, self._stream = self._stream, None
        try:
            results = stream.finish(timeout)
        except StreamRefused as exc:
            # Ending anyway (silence, the worker's time, a takeover): what the stream had not finalised is lost.
            self._count_throttled(exc)
            self._count_dropped(self._held_seconds(), "the stream was refused as it closed")
            results = []
        except EngineError as exc:
            logger.warning("recogniser stream failed while closing", extra={"error": str(exc)})
            if not self._stream_answered:
                self._unreachable(exc)
            results = []
        if not self.taken_over:
            self._publish_all(results, None)
        self._replay = []
        self._last_audio_at = None

    def _new_stabilizer(self) -> Stabilizer:
        settings = self._deps.settings
        return Stabilizer(settings.max_segment_seconds, settings.max_segment_characters)

    def _unreachable(self, error: EngineError) -> None:
        """A stream failed before any result: the recogniser cannot be reached. Told once per outage."""
        metrics.add_metric(name="RecognizerFailures", unit=MetricUnit.Count, value=1)
        if self._outage_reported:
            return
        self._outage_reported = True
        logger.error("the recogniser cannot be reached", extra={"session_id": self.session_id, "error": str(error)})
        self._tell_speaker(
            Error(
                code=ErrorCode.TRANSCRIPTION_UNAVAILABLE,
                message="speech recognition is unavailable; audio is still accepted and retried",
                action="sendAudio",
            )
        )

    def _throttled(self, error: StreamRefused) -> None:
        """The quota refused the stream: hold its audio (since the last final) and try again after the backoff."""
        delay = self._retry.refused(self._deps.clock.now())
        self._count_throttled(error, delay)
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.abort()
        if self._throttle_reported:
            return
        self._throttle_reported = True
        self._tell_speaker(
            Error(
                code=ErrorCode.TRANSCRIPTION_THROTTLED,
                message="captions are delayed: speech recognition is at its limit of concurrent streams; your audio "
                "is kept and captions follow in order once a stream opens",
                action="sendAudio",
            )
        )
        self._tell_audience(delayed=True)

    def _count_throttled(self, error: StreamRefused, retry_in: float | None = None) -> None:
        metrics.add_metric(name="TranscriptionThrottled", unit=MetricUnit.Count, value=1)
        meter.record(
            "transcribe", "StartStreamTranscription", {"Throttled": 1}, session=self.session_id, language=self._language
        )
        logger.warning(
            "the recogniser stream was refused for the account's quota",
            extra={
                "session_id": self.session_id,
                "error": str(error),
                "refusals": self._retry.refusals,
                "retry_in_seconds": retry_in,
                "held_seconds": round(self._held_seconds(), 3),
            },
        )

    def _hold(self, start: float, pcm: bytes) -> None:
        """Keep audio for the stream that is let in next, at most ``refused_hold_seconds`` of it (oldest dropped)."""
        self._replay.append((start, pcm))
        limit = self._deps.settings.refused_hold_seconds
        dropped = 0.0
        while len(self._replay) > 1 and self._held_seconds() > limit:
            _, oldest = self._replay.pop(0)
            dropped += pcm_seconds(oldest)
        if dropped:
            self._count_dropped(dropped, "held longer than refused_hold_seconds")

    def _held_seconds(self) -> float:
        if not self._replay:
            return 0.0
        last_start, last_pcm = self._replay[-1]
        return last_start + pcm_seconds(last_pcm) - self._replay[0][0]

    def _drop_held(self, reason: str) -> None:
        self._count_dropped(self._held_seconds(), reason)
        self._replay = []
        self._retry.attempting()

    def _count_dropped(self, seconds: float, reason: str) -> None:
        metrics.add_metric(name="TranscriptionAudioDropped", unit=MetricUnit.Seconds, value=round(seconds, 3))
        logger.error(
            "held audio dropped without being transcribed",
            extra={"session_id": self.session_id, "seconds": round(seconds, 3), "reason": reason},
        )

    def _resume_if_due(self, now: float) -> None:
        """Open the refused stream again once its backoff is over, with every chunk held since."""
        if not self._retry.due(now):
            return
        self._retry.attempting()
        replay, self._replay = self._replay, []
        self._start_with(replay)

    def _publish_all(self, results: list[Recognition], stream: RecognizerStream | None) -> None:
        if results:
            self._stream_answered = True
            self._outage_reported = False
            self._throttle_reported = False
            self._retry.answered()
            if self._audience_told_delayed:
                self._tell_audience(delayed=False)
        for stable in self._stabilizer.take(results, stream):
            self._publish(stable)
            if not stable.is_partial:
                self._trim_replay(self._stream_start + stable.end)

    def _trim_replay(self, until: float) -> None:
        self._replay = [(start, pcm) for start, pcm in self._replay if start >= until]
        while self._replay and self._offset - self._replay[0][0] > MAX_REPLAY_SECONDS:
            self._replay.pop(0)

    def _publish(self, stable: StableText) -> None:
        start, end = self._stream_start + stable.start, self._stream_start + max(stable.end, stable.start)
        segment = TranscriptSegment(
            session_id=self.session_id,
            source_language=self._language,
            segment_id=f"{self._stream_label}-{stable.segment_id}",
            text=stable.text,
            is_partial=stable.is_partial,
            stability=stable.stability,
            start_time=round(start, 3),
            end_time=round(end, 3),
            dynamics=self._dynamics.over(start, end),
        )
        metrics.add_metric(
            name="TranscriptPartials" if stable.is_partial else "TranscriptFinals", unit=MetricUnit.Count, value=1
        )
        self._tell_speaker(
            Transcript(
                session_id=self.session_id,
                segment_id=segment.segment_id,
                text=segment.text,
                is_partial=segment.is_partial,
                stability=segment.stability,
                start_time=segment.start_time,
                end_time=segment.end_time,
            ),
        )
        self._deps.forwarder.forward(segment)

    def _tell_speaker(self, message: WireModel) -> None:
        """Best effort: a speaker who cannot be reached never stops the audio or the listeners' captions."""
        try:
            self._deps.notifier.send(self._speaker, message)
        except Exception:  # noqa: BLE001 - the Management API failed after botocore's retries
            logger.warning("could not reach the speaker", extra={"message_type": message.to_wire().get("type")})
            metrics.add_metric(name="SpeakerSendFailed", unit=MetricUnit.Count, value=1)

    def _tell_audience(self, delayed: bool) -> None:
        """Show the listeners (``broadcastState.captionsDelayed``) that captions are held back, or flow again: the
        session's state changes, and the control queue's consumer sends it within the session's broadcast rate.
        Best effort, like the speaker's notice: a failure is logged and counted, and never stops the audio."""
        if self._deps.control is None:
            return
        try:
            self._deps.sessions.update_broadcast(self.session_id, captions_delayed=delayed)
            self._deps.control().send(self.session_id)
        except MembershipConflict:
            pass  # the session has ended: nobody left to tell
        except Exception:  # noqa: BLE001 - DynamoDB or SQS failed after botocore's retries
            logger.warning("could not tell the listeners", extra={"session_id": self.session_id, "delayed": delayed})
            metrics.add_metric(name="AudienceNoticeFailed", unit=MetricUnit.Count, value=1)
            return
        self._audience_told_delayed = delayed
        metrics.add_metric(
            name="CaptionsDelayedShown" if delayed else "CaptionsDelayedCleared", unit=MetricUnit.Count, value=1
        )

    def _report(self, report: SequenceReport) -> None:
        if report.duplicates:
            metrics.add_metric(name="AudioDuplicateChunks", unit=MetricUnit.Count, value=len(report.duplicates))
            logger.info("duplicate chunks dropped", extra={"sequences": report.duplicates})
        if report.gaps:
            metrics.add_metric(name="AudioGaps", unit=MetricUnit.Count, value=len(report.gaps))
            metrics.add_metric(name="AudioMissingChunks", unit=MetricUnit.Count, value=report.missing_count)
            logger.warning(
                "audio gap",
                extra={"session_id": self.session_id, "gaps": [[gap.start, gap.stop - 1] for gap in report.gaps]},
            )
        if report.late:
            metrics.add_metric(name="AudioLateChunks", unit=MetricUnit.Count, value=len(report.late))
            logger.warning(
                "chunks arrived after their gap was declared; not transcribed",
                extra={"session_id": self.session_id, "sequences": report.late},
            )
