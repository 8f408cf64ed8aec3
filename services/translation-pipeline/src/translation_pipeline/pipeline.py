"""One transcript segment to captions and speech for every language the session's listeners chose.

- The audience is one Query on the connections GSI. If it fails the invocation fails
  (Lambda retries the asynchronous event), never treated as "nobody listening". A partial's
  audience is the listeners showing captions (``joinSession`` ``captions``); a language
  without one gets no translation of the partial and no message.
  The worker's ordered lanes name one ``targetLanguage`` per invoke; without one,
  every language the listeners chose is served.
- Nothing is done while the broadcast is paused, or for a session that has ended.
- Languages run concurrently, each on its own: the text from the cache or the
  translator (a failure sends the source text marked ``translated: false``); captions
  are translated in cached blocks of words (:func:`blocks`), so a growing partial pays
  for its last block only and its final for the blocks no partial completed; a final
  also gets speech unless the broadcast is muted or its volume is zero, within its speech
  budget (:mod:`translation_pipeline.speech.policy`: a throttled neural voice falls back to
  the standard one, then the speech is skipped; the caption says which in ``speech``).
  Then the language's claim (:mod:`progress`: never twice, never backwards) and its
  fan-out. A language that
  fails before its claim fails the invocation; a retry delivers that language only.
- Caption and speech travel in one ``translation`` message when they fit in API
  Gateway's 128 KB, measured on the encoded bytes, so a final costs one Management API
  call per listener; longer speech continues in ``audio`` messages.
- Fan-out uses the shared bounded pool; gone connections are removed, as everywhere else.
- Every final is kept in the transcripts table (:mod:`broadcast_shared.repositories.transcripts`), per
  language, before its claim: the source text when the invoke is for the source language (the worker
  sends every final on a source-language lane, listened to or not) or names no language, also when the
  session ended while the final was on its way (the speaker saw it); each language's caption text when it
  is delivered. The write is conditional, so a retry keeps it once;
  a failed write fails the language (unclaimed, so the retry delivers and keeps it).
"""

from __future__ import annotations

import base64
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from broadcast_shared import aws
from broadcast_shared.clock import Clock
from broadcast_shared.departures import Departures
from broadcast_shared.languages import SENTENCE_ENDS
from broadcast_shared.messages.outbound import Audio, SpeechAudio, Translation
from broadcast_shared.messages.segments import NEUTRAL_DYNAMICS, TranscriptSegment
from broadcast_shared.messages.wire import WireModel
from broadcast_shared.meter import meter
from broadcast_shared.meter import scope as meter_scope
from broadcast_shared.notifier import MAX_FRAME_BYTES, Notifier, encode
from broadcast_shared.observability import count_by, logger, metrics
from broadcast_shared.repositories.connections import ConnectionsRepository
from broadcast_shared.repositories.sessions import SessionsRepository
from broadcast_shared.repositories.transcripts import TranscriptEntry, TranscriptsRepository
from broadcast_shared.translators import TranslationThrottled, TranslationUnavailable, Translator
from translation_pipeline.cache import TranslationCache
from translation_pipeline.fanout import SlicedFanOut
from translation_pipeline.progress import SegmentProgress
from translation_pipeline.speech import SpeechUnavailable, Synthesizer
from translation_pipeline.speech.policy import SpeechPolicy
from translation_pipeline.speech.ssml import build_ssml

#: raw audio bytes per message at most: base64 (x4/3) plus the JSON around it stays under 128 KB
AUDIO_BYTES_PER_MESSAGE = 90 * 1024


#: the envelope is measured with ``chunkIndex`` 0 and ``final`` false: room for more digits
ENVELOPE_SLACK_BYTES = 16
#: captions are translated in blocks of at most this many words (a block also ends with a sentence), each
#: cached: a growing partial re-translates only its last block, and its final finds every block its partials
#: completed already translated (only the blocks they did not reach are paid for again). Characters translated
#: per final character, partials and finals (benchmarks/translation.py's talk): 1.48 with 8 words, 1.24 with 6,
#: 1.22 with 5; 2.26 when finals were translated whole. Shorter blocks cost a translation more of its context.
PARTIAL_BLOCK_WORDS = 6
#: target languages written without spaces between words: their blocks' translations are joined without one
UNSPACED_LANGUAGES = frozenset({"ja", "zh"})


def blocks(text: str) -> list[str]:
    """``text`` cut into blocks of at most :data:`PARTIAL_BLOCK_WORDS` words, each also ending at a sentence's end.

    A partial only grows (its stable words never change), so a block complete in one partial is the same block
    in every later partial and in the final: each is translated once, from the cache after that."""
    cut: list[str] = []
    words: list[str] = []
    for word in text.split():
        words.append(word)
        if len(words) == PARTIAL_BLOCK_WORDS or word.endswith(SENTENCE_ENDS):
            cut.append(" ".join(words))
            words = []
    if words:
        cut.append(" ".join(words))
    return cut


class DeliveryFailed(Exception):
    """A language's delivery failed before its claim: the invocation fails and its retry delivers it."""


def _room(envelope: WireModel) -> int:
    """Raw audio bytes that fit in ``envelope`` (a message with empty ``data``) under the frame limit."""
    free = MAX_FRAME_BYTES - len(encode(envelope)) - ENVELOPE_SLACK_BYTES
    return max(3, min(AUDIO_BYTES_PER_MESSAGE, free * 3 // 4 // 3 * 3))


@dataclass(frozen=True)
class Delivery:
    """What one segment cost: languages served and Management API calls per listener."""

    languages: dict[str, int]
    calls_per_listener: dict[str, int]


@dataclass(frozen=True)
class PipelineDependencies:
    sessions: SessionsRepository
    connections: ConnectionsRepository
    notifier: Notifier
    departures: Departures
    cache: TranslationCache
    progress: SegmentProgress
    translator: Translator
    synthesizer: Synthesizer
    fan_out: SlicedFanOut
    transcripts: TranscriptsRepository
    transcript_retention_seconds: int
    clock: Clock
    #: how long a final's speech may take, retries and fallback included (docs/ARCHITECTURE.md, "Throttling")
    speech_budget_seconds: float = 1.5
    #: how long a caption's translation may take, retries included
    translation_budget_seconds: float = 1.5


class TranslationPipeline:
    def __init__(self, deps: PipelineDependencies) -> None:
        self._deps = deps
        self._speech = SpeechPolicy(deps.synthesizer, deps.speech_budget_seconds)

    def process(self, segment: TranscriptSegment) -> Delivery:
        session = self._deps.sessions.get(segment.session_id)
        if session is not None and segment.target_language in (None, segment.source_language):
            # Spoken while the session ran, so kept even when it reaches here after the speaker ended it.
            self._keep(segment, segment.source_language, segment.text, translated=True)
        if session is None or not session.is_active:
            metrics.add_metric(name="SegmentsForEndedSessions", unit=MetricUnit.Count, value=1)
            return Delivery({}, {})
        if session.is_paused:
            metrics.add_metric(name="SegmentsWhilePaused", unit=MetricUnit.Count, value=1)
            return Delivery({}, {})
        audience: dict[str, list[str]] = defaultdict(list)
        for listener in self._deps.connections.listeners(segment.session_id, segment.target_language):
            # A partial goes only to listeners showing captions: a language with none is not translated.
            if listener.target_language and (listener.captions or not segment.is_partial):
                audience[listener.target_language].append(listener.connection_id)
        if not audience:
            return Delivery({}, {})
        speak = not session.is_muted and session.volume > 0
        # Languages are independent: each is translated, spoken, claimed and sent on its own thread, so the
        # first listener never waits for the sum of all languages and a failing language spares the others.
        with ThreadPoolExecutor(max_workers=len(audience), thread_name_prefix="language") as pool:
            futures = {
                language: pool.submit(
                    self._deliver_metered,
                    segment,
                    language,
                    audience[language],
                    speak,
                    session.volume,
                    session.terminology,
                )
                for language in sorted(audience)
            }
        calls: dict[str, int] = {}
        failed: list[str] = []
        for language, future in futures.items():
            try:
                sent = future.result()
            except Exception:  # noqa: BLE001 - reported below; the invocation fails so Lambda retries
                logger.exception("segment not delivered", extra={"language": language})
                failed.append(language)
                continue
            if sent is not None:
                calls[language] = sent
        if failed:
            # Nothing was claimed for these languages: a retry delivers them, and only them.
            raise DeliveryFailed(f"segment {segment.segment_id} not delivered in {', '.join(failed)}")
        metrics.add_metric(name="SegmentsTranslated", unit=MetricUnit.Count, value=1)
        return Delivery({language: len(ids) for language, ids in audience.items()}, calls)

    def _deliver_metered(self, segment: TranscriptSegment, language: str, *rest: Any) -> int | None:
        """One language's work, its AWS calls counted for the session, language and segment kind."""
        with meter_scope(segment.session_id, language, "partial" if segment.is_partial else "final"):
            return self._deliver(segment, language, *rest)

    def _deliver(
        self,
        segment: TranscriptSegment,
        language: str,
        connection_ids: list[str],
        speak: bool,
        volume: float,
        terminology: str | None,
    ) -> int | None:
        """One language: messages made and the final kept first, then claimed, then sent; None when already
        delivered."""
        started = time.perf_counter()
        text, translated = self._text(segment, language, terminology)
        translated_at = time.perf_counter()
        messages = self._messages(segment, language, text, translated, speak, volume)
        spoken_at = time.perf_counter()
        if language != segment.source_language:
            self._keep(segment, language, text, translated)
        # The claim sits just before delivery: a failure while translating or speaking leaves the segment
        # unclaimed (a retry delivers it), and a duplicate invoke finds it claimed (never sent twice).
        if not self._advance(segment, language):
            return None
        claimed_at = time.perf_counter()
        for message in messages:
            result = self._deps.fan_out.fan_out(connection_ids, message)
            if result.throttled:
                # Dropped for those listeners only, counted for the session and language.
                meter.record("apigatewaymanagementapi", "PostToConnection", {"Dropped": len(result.throttled)})
            if result.gone:
                self._deps.departures.connections_gone(result.gone)
                gone = set(result.gone)
                connection_ids = [c for c in connection_ids if c not in gone]
        if not segment.is_partial:
            # Where a final's time goes, per language (the dashboard's and `make bench`'s breakdown).
            stages = {
                "TranslationTime": translated_at - started,
                "SpeechTime": spoken_at - translated_at,
                "FanOutTime": time.perf_counter() - claimed_at,
            }
            logger.info(
                "final delivered", extra={"language": language, **{k: round(v * 1000, 1) for k, v in stages.items()}}
            )
            for name, seconds in stages.items():
                metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=round(seconds * 1000, 1))
        return len(messages)

    def warm_up(self, source: str, target: str) -> dict:
        """Load the engines for one language pair (the worker's lane asks before the first words). A throttled
        warm-up call is not retried: a retry would take from the account's quota what the talk's speech needs."""
        started = time.perf_counter()
        translated = True
        with aws.deadline(retry_throttles=False):
            if source != target:
                try:
                    self._deps.translator.translate("Hello.", source, target, None)
                except TranslationUnavailable:
                    translated = False
            try:
                self._deps.synthesizer.synthesize(build_ssml("Hello.", NEUTRAL_DYNAMICS, 1.0, False), target)
            except SpeechUnavailable:
                pass
        return {"warmed": target, "translated": translated, "seconds": round(time.perf_counter() - started, 3)}

    def deliver_slice(self, event: dict[str, Any]) -> dict[str, Any]:
        """A ``fanOutSlice`` invocation from another invocation's :class:`SlicedFanOut`."""
        return self._deps.fan_out.deliver_slice(event)

    def _advance(self, segment: TranscriptSegment, language: str) -> bool:
        advanced = self._deps.progress.advance(
            segment.session_id, segment.segment_id, language, len(segment.text), not segment.is_partial
        )
        if not advanced:
            metrics.add_metric(name="SegmentsOutOfOrder", unit=MetricUnit.Count, value=1)
        return advanced

    def _keep(self, segment: TranscriptSegment, language: str, text: str, translated: bool) -> None:
        """Keep a final of ``language`` in the session's transcript (once, whatever the retries)."""
        if segment.is_partial or not text.strip():
            return
        entry = TranscriptEntry(segment.segment_id, text, segment.start_time, segment.end_time, translated)
        now = self._deps.clock.now()
        expires_at = int(now) + self._deps.transcript_retention_seconds
        self._deps.transcripts.record(segment.session_id, language, entry, now, expires_at)

    def _messages(
        self, segment: TranscriptSegment, language: str, text: str, translated: bool, speak: bool, volume: float
    ) -> list[WireModel]:
        caption = Translation(
            session_id=segment.session_id,
            segment_id=segment.segment_id,
            language=language,
            text=text,
            is_partial=segment.is_partial,
            translated=translated,
            start_time=segment.start_time,
            end_time=segment.end_time,
        )
        if segment.is_partial or not speak or not text:
            return [caption]
        # Untranslated text is spoken by the source language's voice, not read out in a foreign accent.
        outcome = self._speech.speak(
            text, language if translated else segment.source_language, segment.dynamics, volume
        )
        caption = caption.model_copy(update={"speech": outcome.status})
        speech = outcome.speech
        if speech is None:
            return [caption]
        # Pieces are sized by the encoded bytes of the message around them, so every message fits the
        # frame limit whatever the caption's script and length.
        first_room = _room(
            caption.model_copy(update={"audio": SpeechAudio(format=speech.format, data="", chunk_index=0, final=False)})
        )
        rest_room = _room(
            Audio(
                session_id=segment.session_id,
                segment_id=segment.segment_id,
                language=language,
                format=speech.format,
                data="",
                chunk_index=0,
                final=False,
            )
        )
        pieces = [speech.data[:first_room]]
        pieces += [speech.data[i : i + rest_room] for i in range(first_room, len(speech.data), rest_room)]
        first = SpeechAudio(
            format=speech.format, data=base64.b64encode(pieces[0]).decode(), chunk_index=0, final=len(pieces) == 1
        )
        messages: list[WireModel] = [caption.model_copy(update={"audio": first})]
        for index, piece in enumerate(pieces[1:], start=1):
            messages.append(
                Audio(
                    session_id=segment.session_id,
                    segment_id=segment.segment_id,
                    language=language,
                    format=speech.format,
                    data=base64.b64encode(piece).decode(),
                    chunk_index=index,
                    final=index == len(pieces) - 1,
                )
            )
        return messages

    def _text(self, segment: TranscriptSegment, language: str, terminology: str | None) -> tuple[str, bool]:
        source = segment.source_language
        if language == source or not segment.text.strip():
            return segment.text, True
        # A partial only grows: its complete blocks were translated (and cached) by an earlier partial, so each
        # partial pays for its last block only, and the final for the blocks no partial completed.
        parts = [self._translate(block, source, language, terminology) for block in blocks(segment.text)]
        separator = "" if language in UNSPACED_LANGUAGES else " "
        return separator.join(text for text, _ in parts), all(translated for _, translated in parts)

    def _translate(self, text: str, source: str, language: str, terminology: str | None) -> tuple[str, bool]:
        cached = self._deps.cache.get(source, language, text, terminology)
        if cached is not None:
            # Not billed, but counted: a final's text is the floor's translation however it was paid for.
            meter.record("translate", "TranslateText", {"CachedCharacters": len(text)}, language=language)
            return cached, True
        try:
            with aws.deadline(time.monotonic() + self._deps.translation_budget_seconds):
                translation = self._deps.translator.translate(text, source, language, terminology)
        except TranslationUnavailable as exc:
            logger.warning("caption sent untranslated", extra={"language": language, "error": str(exc)})
            count_by("TranslationsDegraded", language=language)
            if isinstance(exc, TranslationThrottled):
                meter.record("translate", "TranslateText", {"Throttled": 1})
                metrics.add_metric(name="TranslationsThrottled", unit=MetricUnit.Count, value=1)
            return text, False
        self._deps.cache.put(source, language, text, translation, terminology)
        return translation, True
