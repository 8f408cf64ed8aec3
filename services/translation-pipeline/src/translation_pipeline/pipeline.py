"""One transcript segment to captions and speech for every language the session's listeners chose.

- The audience is one Query on the connections GSI. If it fails the invocation fails
  (Lambda retries the asynchronous event), never treated as "nobody listening".
- Nothing is done while the broadcast is paused, or for a session that has ended, or
  for a segment that would take listeners backwards (:mod:`progress`).
- Each language with listeners: the text from the cache or the translator (a failure
  sends the source text marked ``translated: false``); a final also gets speech unless
  the broadcast is muted or its volume is zero (a synthesis failure still sends the
  caption). Caption and speech travel in one ``translation`` message when they fit in
  API Gateway's 128 KB, so a final costs one Management API call per listener; longer
  speech continues in ``audio`` messages.
- Fan-out per language is concurrent with the shared bounded pool; gone connections
  are removed, as everywhere else.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit

from broadcast_shared.departures import Departures
from broadcast_shared.messages.outbound import Audio, SpeechAudio, Translation
from broadcast_shared.messages.segments import TranscriptSegment
from broadcast_shared.messages.wire import WireModel
from broadcast_shared.notifier import Notifier
from broadcast_shared.observability import count_by, logger, metrics
from broadcast_shared.repositories.connections import ConnectionsRepository
from broadcast_shared.repositories.sessions import SessionsRepository
from translation_pipeline.cache import TranslationCache
from translation_pipeline.progress import SegmentProgress
from translation_pipeline.speech import Speech, SpeechUnavailable, Synthesizer
from translation_pipeline.speech.ssml import build_ssml
from translation_pipeline.translators import TranslationUnavailable, Translator

#: raw audio bytes per message: base64 (x4/3) plus the JSON around it stays under 128 KB
AUDIO_BYTES_PER_MESSAGE = 90 * 1024


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


class TranslationPipeline:
    def __init__(self, deps: PipelineDependencies) -> None:
        self._deps = deps

    def process(self, segment: TranscriptSegment) -> Delivery:
        session = self._deps.sessions.get(segment.session_id)
        if session is None or not session.is_active:
            metrics.add_metric(name="SegmentsForEndedSessions", unit=MetricUnit.Count, value=1)
            return Delivery({}, {})
        if session.is_paused:
            metrics.add_metric(name="SegmentsWhilePaused", unit=MetricUnit.Count, value=1)
            return Delivery({}, {})
        audience: dict[str, list[str]] = defaultdict(list)
        for listener in self._deps.connections.listeners(segment.session_id):
            if listener.target_language:
                audience[listener.target_language].append(listener.connection_id)
        # Where the progress check sits keeps the gap between check and delivery short: a final is
        # claimed before its (slow) speech is made, so any partial checked later is refused; a
        # partial is checked after its (quick) translation, just before it goes out.
        if not segment.is_partial and not self._advance(segment):
            return Delivery({}, {})
        speak = not session.is_muted and session.volume > 0
        outgoing = {
            language: self._messages(segment, language, speak, session.volume, session.terminology)
            for language in sorted(audience)
        }
        if segment.is_partial and not self._advance(segment):
            return Delivery({}, {})
        for language, messages in outgoing.items():
            connection_ids = audience[language]
            for message in messages:
                result = self._deps.notifier.fan_out(connection_ids, message)
                if result.gone:
                    self._deps.departures.connections_gone(result.gone)
                    connection_ids = [c for c in connection_ids if c not in set(result.gone)]
        metrics.add_metric(name="SegmentsTranslated", unit=MetricUnit.Count, value=1)
        return Delivery(
            {language: len(ids) for language, ids in audience.items()},
            {language: len(messages) for language, messages in outgoing.items()},
        )

    def _advance(self, segment: TranscriptSegment) -> bool:
        advanced = self._deps.progress.advance(
            segment.session_id, segment.segment_id, len(segment.text), not segment.is_partial
        )
        if not advanced:
            metrics.add_metric(name="SegmentsOutOfOrder", unit=MetricUnit.Count, value=1)
        return advanced

    def _messages(
        self, segment: TranscriptSegment, language: str, speak: bool, volume: float, terminology: str | None
    ) -> list[WireModel]:
        text, translated = self._text(segment, language, terminology)
        caption = Translation(
            session_id=segment.session_id,
            segment_id=segment.segment_id,
            language=language,
            text=text,
            is_partial=segment.is_partial,
            translated=translated,
        )
        if segment.is_partial or not speak or not text:
            return [caption]
        # Untranslated text is spoken by the source language's voice, not read out in a foreign accent.
        speech = self._speech(text, language if translated else segment.source_language, segment, volume)
        if speech is None:
            return [caption]
        pieces = [
            speech.data[i : i + AUDIO_BYTES_PER_MESSAGE] for i in range(0, len(speech.data), AUDIO_BYTES_PER_MESSAGE)
        ]
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
        cached = self._deps.cache.get(source, language, segment.text, terminology)
        if cached is not None:
            return cached, True
        try:
            translation = self._deps.translator.translate(segment.text, source, language, terminology)
        except TranslationUnavailable as exc:
            logger.warning("caption sent untranslated", extra={"language": language, "error": str(exc)})
            count_by("TranslationsDegraded", language=language)
            return segment.text, False
        self._deps.cache.put(source, language, segment.text, translation, terminology)
        return translation, True

    def _speech(self, text: str, language: str, segment: TranscriptSegment, volume: float) -> Speech | None:
        synthesizer = self._deps.synthesizer
        try:
            ssml = build_ssml(text, segment.dynamics, volume, synthesizer.supports_pitch(language))
            return synthesizer.synthesize(ssml, language)
        except SpeechUnavailable as exc:
            logger.warning("caption sent without speech", extra={"language": language, "error": str(exc)})
            count_by("SpeechDegraded", language=language)
            return None
