"""Amazon Polly: a voice per language, neural where the voice has it, MP3 (every browser plays it).

Polly's client retries throttled calls as botocore's standard mode does (backoff with jitter, at most
``MAX_ATTEMPTS``), and only while the segment's speech budget lasts (:func:`broadcast_shared.aws.deadline`):
a call throttled past it raises :class:`SpeechThrottled`, and the pipeline's speech policy falls back to the
standard voice or skips the speech (docs/ARCHITECTURE.md, "Throttling").
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from broadcast_shared import aws
from translation_pipeline.speech import Speech, SpeechThrottled, SpeechUnavailable

#: attempts per call (the first and two retries), each retry within the segment's budget
MAX_ATTEMPTS = 3
POLLY_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS})

#: language -> (voice, whether it has a neural version); POLLY_VOICES overrides the voice
DEFAULT_VOICES: dict[str, tuple[str, bool]] = {
    "ar": ("Hala", True),
    "de": ("Vicki", True),
    "en": ("Joanna", True),
    "es": ("Lucia", True),
    "fr": ("Lea", True),
    "hi": ("Kajal", True),
    "it": ("Bianca", True),
    "ja": ("Takumi", True),
    "ko": ("Seoyeon", True),
    "nl": ("Laura", True),
    "pl": ("Ola", True),
    "pt": ("Camila", True),
    "ru": ("Tatyana", False),
    "sv": ("Elin", True),
    "tr": ("Burcu", True),
    "zh": ("Zhiyu", True),
}


def engine_for(language: str, prefer_neural: bool) -> str:
    """Polly's engine for the language: neural where its voice has it and neural is preferred."""
    return "neural" if prefer_neural and DEFAULT_VOICES.get(language, ("", False))[1] else "standard"


class PollySynthesizer:
    def __init__(self, client: Any | None = None, voices: dict[str, str] | None = None, prefer_neural: bool = True):
        self._client = aws.retry_within_deadline(client or aws.client("polly", config=POLLY_CONFIG))
        self._overrides = voices or {}
        self._prefer_neural = prefer_neural

    def _voice(self, language: str) -> tuple[str, str]:
        voice = self._overrides.get(language, DEFAULT_VOICES.get(language, ("", False))[0])
        if not voice:
            raise SpeechUnavailable(f"no Polly voice configured for {language}")
        return voice, engine_for(language, self._prefer_neural)

    def engines(self, language: str) -> tuple[str, ...]:
        """Neural then standard where the voice has a neural version and neural is preferred."""
        preferred = engine_for(language, self._prefer_neural)
        return (preferred, "standard") if preferred == "neural" else (preferred,)

    def supports_pitch(self, language: str, engine: str | None = None) -> bool:
        return (engine or self._voice(language)[1]) == "standard"

    def synthesize(self, ssml: str, language: str, engine: str | None = None) -> Speech:
        voice, preferred = self._voice(language)
        engine = engine or preferred
        try:
            response = self._client.synthesize_speech(
                Text=ssml, TextType="ssml", VoiceId=voice, Engine=engine, OutputFormat="mp3", SampleRate="22050"
            )
            return Speech(response.get("ContentType") or "audio/mpeg", response["AudioStream"].read(), engine)
        except (ClientError, aws.RetriesOutOfBudget) as exc:
            if aws.is_throttling(exc):
                raise SpeechThrottled(f"Polly {voice} ({engine}) throttled: {exc}") from exc
            raise SpeechUnavailable(f"Polly {voice} ({engine}): {exc}") from exc
        except BotoCoreError as exc:
            raise SpeechUnavailable(f"Polly {voice} ({engine}): {exc}") from exc
