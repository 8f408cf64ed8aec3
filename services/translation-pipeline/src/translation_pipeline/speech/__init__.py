"""The synthesizer interface: Amazon Polly in AWS, espeak-ng in local runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class SpeechUnavailable(Exception):
    """No speech for this segment: the caption still goes out."""


class SpeechThrottled(SpeechUnavailable):
    """The speech service refused the call for the account's rate, after the retries the budget allowed."""


@dataclass(frozen=True)
class Speech:
    #: a MIME type browsers play (``audio/mpeg``, ``audio/ogg``)
    format: str
    data: bytes
    #: the Polly engine that spoke it: ``neural`` or ``standard``
    engine: str = "standard"


class Synthesizer(Protocol):
    #: whether SSML prosody may set pitch (Polly's neural voices do not support it)
    def supports_pitch(self, language: str, engine: str | None = None) -> bool: ...

    def engines(self, language: str) -> tuple[str, ...]:
        """The engines that may speak ``language``, preferred first (``neural`` then ``standard``)."""
        ...

    def synthesize(self, ssml: str, language: str, engine: str | None = None) -> Speech: ...


def synthesizer_for(engine: str, voices: dict[str, str], prefer_neural: bool) -> Synthesizer:
    if engine == "espeak":
        from translation_pipeline.speech.espeak import EspeakSynthesizer

        return EspeakSynthesizer(prefer_neural)
    from translation_pipeline.speech.polly import PollySynthesizer

    return PollySynthesizer(voices=voices, prefer_neural=prefer_neural)
