"""Test doubles for the translation pipeline's engine interfaces (Translator, Synthesizer)."""

from __future__ import annotations

from broadcast_shared.translators import TranslationUnavailable
from translation_pipeline.speech import Speech, SpeechUnavailable


class RecordingTranslator:
    """Translates by tagging the text; records every call; fails for languages in ``failing``."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.terminologies: list[str | None] = []
        self._failing = failing or set()

    def translate(self, text: str, source: str, target: str, terminology: str | None = None) -> str:
        self.calls.append((text, source, target))
        self.terminologies.append(terminology)
        if target in self._failing:
            raise TranslationUnavailable(f"no {source}->{target}")
        return f"<{target}> {text}"


class RecordingSynthesizer:
    """Returns ``size`` bytes of speech; records the SSML; fails for languages in ``failing``."""

    def __init__(self, size: int = 4000, failing: set[str] | None = None) -> None:
        self.ssml: list[tuple[str, str]] = []
        self._size = size
        self._failing = failing or set()

    def supports_pitch(self, language: str, engine: str | None = None) -> bool:
        return False

    def engines(self, language: str) -> tuple[str, ...]:
        return ("neural", "standard")

    def synthesize(self, ssml: str, language: str, engine: str | None = None) -> Speech:
        self.ssml.append((language, ssml))
        if language in self._failing:
            raise SpeechUnavailable(f"no voice for {language}")
        data = bytes(range(256)) * (self._size // 256) + b"\0" * (self._size % 256)
        return Speech("audio/mpeg", data, engine or "neural")
