"""Amazon Polly: a voice per language, neural where the voice has it, MP3 (every browser plays it)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from broadcast_shared import aws
from translation_pipeline.speech import Speech, SpeechUnavailable

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
        self._client = client or aws.client("polly")
        self._overrides = voices or {}
        self._prefer_neural = prefer_neural

    def _voice(self, language: str) -> tuple[str, str]:
        voice = self._overrides.get(language, DEFAULT_VOICES.get(language, ("", False))[0])
        if not voice:
            raise SpeechUnavailable(f"no Polly voice configured for {language}")
        return voice, engine_for(language, self._prefer_neural)

    def supports_pitch(self, language: str) -> bool:
        return self._voice(language)[1] == "standard"

    def synthesize(self, ssml: str, language: str) -> Speech:
        voice, engine = self._voice(language)
        try:
            response = self._client.synthesize_speech(
                Text=ssml, TextType="ssml", VoiceId=voice, Engine=engine, OutputFormat="mp3", SampleRate="22050"
            )
            return Speech("audio/mpeg", response["AudioStream"].read())
        except (BotoCoreError, ClientError) as exc:
            raise SpeechUnavailable(f"Polly {voice} ({engine}): {exc}") from exc
