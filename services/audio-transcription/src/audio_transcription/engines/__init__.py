"""The recogniser interface both engines implement, and the factory that picks one.

A :class:`Recognizer` opens one :class:`RecognizerStream` per session. The stream
takes PCM (16-bit, 16 kHz, mono) as it arrives and yields :class:`Recognition`
results, partial and final, with times in seconds from the start of the stream.
Amazon Transcribe streaming (``transcribe``) serves AWS; ``pocketsphinx`` serves local
runs (English only); ``scripted`` replays a timed transcript at next to no CPU (local load
runs, ``make bench``). All produce the same results, so everything above them (order,
stabilisation, forwarding) is the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class EngineError(Exception):
    """The recogniser stream failed; the caller re-opens it."""


class UnsupportedLanguage(EngineError):
    """The engine cannot recognise this language at all."""


class StreamRefused(EngineError):
    """The service refused the stream for the account's quota (Transcribe's ``LimitExceededException``, at the
    stream's start or during it): the caller holds the audio and opens the stream again after a backoff."""


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    stable: bool
    punctuation: bool = False


@dataclass(frozen=True)
class Recognition:
    """One result: a partial or final hypothesis for one utterance (``result_id``)."""

    result_id: str
    text: str
    is_partial: bool
    start: float
    end: float
    words: tuple[Word, ...] = ()


class RecognizerStream(Protocol):
    def send(self, pcm: bytes) -> None: ...

    def results(self) -> list[Recognition]:
        """The results that arrived since the last call; raises :class:`EngineError` if the stream failed."""

    def finish(self, timeout: float) -> list[Recognition]:
        """End the audio and return the remaining results (the finals of any open utterance)."""

    def abort(self) -> None: ...

    def cut(self, result_id: str, at: float) -> bool:
        """The platform closed a segment of ``result_id`` at ``at`` seconds into the stream.

        True when the engine restarted its utterance there (the rest arrives as a new
        result); False when the result goes on and its closed words stay as they are.
        """


class Recognizer(Protocol):
    def open(self, language: str) -> RecognizerStream: ...

    def prepare(self, language: str) -> None:
        """Load what a stream for ``language`` needs, ahead of the first :meth:`open` (a warm-up); a failure
        is left for that open to meet."""


def recognizer_for(engine: str, endpoint_url: str = "", stream_quota_url: str = "") -> Recognizer:
    """The configured engine; its library is imported only when it is chosen. A local engine opens its streams
    under the local runtime's emulated concurrent-stream quota when ``stream_quota_url`` is set."""
    if engine in ("pocketsphinx", "scripted"):
        local = _local_recognizer(engine)
        if not stream_quota_url:
            return local
        from audio_transcription.engines.local_quota import QuotaLimitedRecognizer, StreamQuota

        return QuotaLimitedRecognizer(local, StreamQuota(stream_quota_url))
    from audio_transcription.engines.transcribe import TranscribeRecognizer

    return TranscribeRecognizer(endpoint_url=endpoint_url)


def _local_recognizer(engine: str) -> Recognizer:
    if engine == "pocketsphinx":
        from audio_transcription.engines.sphinx import SphinxRecognizer

        return SphinxRecognizer()
    from audio_transcription.engines.scripted import ScriptedRecognizer

    return ScriptedRecognizer()


def join_words(words: list[Word] | tuple[Word, ...]) -> str:
    """Words as text: punctuation attaches to the word before it."""
    text = ""
    for word in words:
        text += word.text if word.punctuation or not text else f" {word.text}"
    return text
