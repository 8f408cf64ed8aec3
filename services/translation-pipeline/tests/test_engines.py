"""The engines behind the pipeline's interfaces: apertium and espeak-ng for real, Amazon
Translate and Polly request shapes through botocore's Stubber; SSML bounds and escaping."""

from __future__ import annotations

import io
import subprocess
import xml.etree.ElementTree as ET

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from broadcast_shared.messages.segments import EmotionDynamics
from broadcast_shared.translators import TranslationUnavailable
from broadcast_shared.translators.amazon import AmazonTranslator
from broadcast_shared.translators.apertium import ApertiumTranslator
from translation_pipeline.speech import SpeechUnavailable
from translation_pipeline.speech.espeak import EspeakSynthesizer
from translation_pipeline.speech.polly import PollySynthesizer
from translation_pipeline.speech.ssml import PITCH_PERCENT, RATE_PERCENT, VOLUME_DB, build_ssml


@pytest.fixture(scope="module")
def apertium():
    translator = ApertiumTranslator()
    yield translator
    translator.close()


def test_apertium_translates_english_to_spanish_directly_and_to_french_and_portuguese_through_spanish(apertium):
    assert apertium.translate("Good morning everyone.", "en", "es") == "Buenos días Todo el mundo."
    assert "Bonjour" in apertium.translate("Good morning everyone.", "en", "fr")
    assert "Bons dias" in apertium.translate("Good morning everyone.", "en", "pt")


def test_one_apertium_process_serves_segment_after_segment_and_keeps_stream_syntax_literal(apertium):
    first = apertium.translate("The team has worked very hard.", "en", "es")
    assert first.startswith("El equipo")
    assert "$" in apertium.translate("It costs $5 [really].", "en", "es")
    assert apertium.translate("The team has worked very hard.", "en", "es") == first


def test_a_word_apertium_drops_leaves_no_double_space(apertium):
    # "we" has no word of its own in Spanish or French: apertium kept its space
    assert apertium.translate("First we will look at the numbers.", "en", "es") == "Primero miraremos en los números."
    assert "  " not in apertium.translate("Then we will answer your questions.", "en", "fr")


def test_apertium_reports_a_pair_it_cannot_serve(apertium):
    with pytest.raises(TranslationUnavailable, match="en->de"):
        apertium.translate("Good morning.", "en", "de")


def test_espeak_speaks_ssml_as_ogg_a_browser_plays(tmp_path):
    speech = EspeakSynthesizer().synthesize(build_ssml("Hola a todos", EmotionDynamics(), 1.0, True), "es")
    assert speech.format == "audio/ogg" and speech.data.startswith(b"OggS")
    (tmp_path / "speech.ogg").write_bytes(speech.data)
    info = subprocess.run(["soxi", "-D", str(tmp_path / "speech.ogg")], capture_output=True, check=True).stdout
    assert 0.3 < float(info) < 5


def test_espeak_refuses_a_language_it_does_not_have():
    with pytest.raises(SpeechUnavailable):
        EspeakSynthesizer().synthesize("<speak>hello</speak>", "xx-nonexistent")


def test_amazon_translate_request_and_failure():
    client = boto3.client("translate", region_name="eu-west-1")
    with Stubber(client) as stub:
        stub.add_response(
            "translate_text",
            {"TranslatedText": "Hola", "SourceLanguageCode": "en", "TargetLanguageCode": "es"},
            {"Text": "Hello", "SourceLanguageCode": "en", "TargetLanguageCode": "es"},
        )
        stub.add_response(
            "translate_text",
            {"TranslatedText": "Hola ACME", "SourceLanguageCode": "en", "TargetLanguageCode": "es"},
            {
                "Text": "Hello ACME",
                "SourceLanguageCode": "en",
                "TargetLanguageCode": "es",
                "TerminologyNames": ["acme"],
            },
        )
        stub.add_client_error("translate_text", "ThrottlingException")
        translator = AmazonTranslator(client)
        assert translator.translate("Hello", "en", "es") == "Hola"
        assert translator.translate("Hello ACME", "en", "es", terminology="acme") == "Hola ACME"
        with pytest.raises(TranslationUnavailable):
            translator.translate("Hello", "en", "es")


def test_polly_uses_a_neural_voice_where_there_is_one_and_mp3():
    client = boto3.client("polly", region_name="eu-west-1")
    audio = b"ID3mp3"
    with Stubber(client) as stub:
        stub.add_response(
            "synthesize_speech",
            {"AudioStream": StreamingBody(io.BytesIO(audio), len(audio)), "ContentType": "audio/mpeg"},
            {
                "Text": "<speak>x</speak>",
                "TextType": "ssml",
                "VoiceId": "Lucia",
                "Engine": "neural",
                "OutputFormat": "mp3",
                "SampleRate": "22050",
            },
        )
        polly = PollySynthesizer(client)
        assert polly.synthesize("<speak>x</speak>", "es").data == audio
    assert not polly.supports_pitch("es") and polly.supports_pitch("ru")  # Tatyana is standard only
    assert PollySynthesizer(client, voices={"es": "Sergio"})._voice("es") == ("Sergio", "neural")
    with pytest.raises(SpeechUnavailable):
        polly.synthesize("<speak>x</speak>", "xx")


def _number(value: str, suffix: str) -> float:
    return float(value.removesuffix(suffix))


@given(
    st.text(max_size=200),
    st.floats(0, 1),
    st.floats(0.5, 2.0),
    st.floats(0, 1),
    st.floats(0, 1),
    st.booleans(),
)
def test_ssml_is_well_formed_escaped_and_within_bounds(text, volume, rate, energy, session_volume, with_pitch):
    text = "".join(ch for ch in text if ch.isprintable())
    ssml = build_ssml(text, EmotionDynamics(volume=volume, rate=rate, energy=energy), session_volume, with_pitch)
    prosody = ET.fromstring(ssml).find("prosody")
    assert (prosody.text or "") == text
    assert VOLUME_DB[0] <= _number(prosody.get("volume"), "dB") <= VOLUME_DB[1]
    assert RATE_PERCENT[0] <= _number(prosody.get("rate"), "%") <= RATE_PERCENT[1]
    if with_pitch:
        assert PITCH_PERCENT[0] <= _number(prosody.get("pitch"), "%") <= PITCH_PERCENT[1]
    else:
        assert prosody.get("pitch") is None
