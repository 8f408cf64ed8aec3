"""Local speech: espeak-ng reads the SSML; sox encodes it as Ogg Vorbis (small enough to send)."""

from __future__ import annotations

import shutil
import subprocess

from broadcast_shared.meter import meter
from translation_pipeline.speech import Speech, SpeechUnavailable
from translation_pipeline.speech.polly import engine_for

TIMEOUT_SECONDS = 20


class EspeakSynthesizer:
    def __init__(self, prefer_neural: bool = True) -> None:
        #: the Polly engine this stands in for (the cost meter counts what Polly would bill)
        self._prefer_neural = prefer_neural
        for tool in ("espeak-ng", "sox"):
            if shutil.which(tool) is None:
                raise SpeechUnavailable(f"{tool} is not installed (make setup installs it)")

    def supports_pitch(self, language: str, engine: str | None = None) -> bool:
        return True

    def synthesize(self, ssml: str, language: str, engine: str | None = None) -> Speech:
        engine = engine or engine_for(language, self._prefer_neural)
        meter.stand_in("polly", "SynthesizeSpeech", {"Text": ssml, "TextType": "ssml", "Engine": engine})
        return Speech("audio/ogg", speak(ssml, language), engine)

    def engines(self, language: str) -> tuple[str, ...]:
        """The Polly engines this stands in for, preferred first (espeak-ng has one voice for both)."""
        preferred = engine_for(language, self._prefer_neural)
        return (preferred, "standard") if preferred == "neural" else (preferred,)


def speak(ssml: str, language: str) -> bytes:
    """espeak-ng reading ``ssml`` in ``language``, as Ogg Vorbis (also the local Polly stand-in's voice)."""
    try:
        wav = subprocess.run(
            ["espeak-ng", "-m", "-v", language, "--stdout", ssml],
            capture_output=True,
            check=True,
            timeout=TIMEOUT_SECONDS,
        ).stdout
        ogg = subprocess.run(
            ["sox", "-t", "wav", "-", "-t", "ogg", "-C", "0", "-"],
            input=wav,
            capture_output=True,
            check=True,
            timeout=TIMEOUT_SECONDS,
        ).stdout
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise SpeechUnavailable(f"espeak-ng/sox failed for {language}: {exc}") from exc
    if not ogg:
        raise SpeechUnavailable(f"espeak-ng produced no audio for {language}")
    return ogg
