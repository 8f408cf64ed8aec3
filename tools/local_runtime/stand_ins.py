"""Amazon Polly and Amazon Translate stood in at the network edge, under the account's emulated quotas, and
Amazon Transcribe's concurrent-stream quota for the local recognisers.

The functions' unchanged boto3 ``polly`` and ``translate`` clients reach these through
``AWS_ENDPOINT_URL_POLLY``/``AWS_ENDPOINT_URL_TRANSLATE`` (the local runtime's HTTP server, beside the
Management and Invoke APIs) when the pipeline runs on its AWS engines (``SPEECH_ENGINE=polly``,
``TRANSLATION_ENGINE=translate``). Speech is espeak-ng's (Ogg Vorbis, said in ``Content-Type``), translation
apertium's. Every call first takes a token from the account's bucket (:mod:`local_runtime.quotas`); past it
the answer is the service's own ``ThrottlingException``, so the clients' retries, their budget and the
pipeline's fallbacks run as on AWS.

The local recognisers (pocketsphinx, the scripted one) run inside the worker; each of their streams takes a
slot here first (``POST /local/transcribe/streams``, given back with ``POST .../{id}/close``), reached through
``LOCAL_STREAM_QUOTA_URL`` (engines/local_quota.py). Past the account's concurrent streams the answer is
Transcribe's own refusal, HTTP 429 ``LimitExceededException``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from broadcast_shared.translators import TranslationUnavailable
from broadcast_shared.translators.apertium import ApertiumTranslator
from local_runtime.quotas import STREAMS_PATH, AccountBuckets
from translation_pipeline.speech import SpeechUnavailable
from translation_pipeline.speech.espeak import speak
from translation_pipeline.speech.polly import DEFAULT_VOICES

POLLY_PATH = "/v1/speech"
TRANSLATE_TARGET = "AWSShineFrontendService_20170701.TranslateText"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]


def error(status: int, code: str, message: str) -> Answer:
    body = json.dumps({"__type": code, "message": message}).encode()
    return Answer(status, body, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code})


def throttled(service: str) -> Answer:
    # Polly and Translate both answer a throttled call with HTTP 400 and ThrottlingException.
    return error(400, "ThrottlingException", f"Rate exceeded ({service}, emulated account quota)")


class StoodInServices:
    """Polly's ``SynthesizeSpeech`` and Translate's ``TranslateText`` for every function of one local stack."""

    def __init__(self, buckets: AccountBuckets) -> None:
        self.buckets = buckets
        self._translator: ApertiumTranslator | None = None
        self._lock = threading.Lock()

    def handles(self, path: str, target: str | None) -> bool:
        return path == POLLY_PATH or target == TRANSLATE_TARGET or path.startswith(STREAMS_PATH)

    def answer(self, path: str, target: str | None, body: bytes) -> Answer:
        if path.startswith(STREAMS_PATH):
            return self._stream_slot(path.removeprefix(STREAMS_PATH))
        try:
            request = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return error(400, "SerializationException", "the body is not JSON")
        if path == POLLY_PATH:
            return self._synthesize(request)
        return self._translate(request)

    def _synthesize(self, request: dict) -> Answer:
        engine = request.get("Engine", "standard")
        bucket = self.buckets.polly.get(engine)
        if bucket is None:
            return error(400, "ValidationException", f"engine {engine} is not stood in locally")
        if not bucket.take():
            return throttled(f"polly {engine}")
        language = request.get("LanguageCode") or self._language(request.get("VoiceId", ""))
        if language is None:
            return error(400, "ValidationException", f"voice {request.get('VoiceId')} is not stood in locally")
        try:
            audio = speak(request.get("Text", ""), language)
        except SpeechUnavailable as exc:
            return error(500, "ServiceFailureException", str(exc))
        text = request.get("Text", "")
        return Answer(200, audio, {"Content-Type": "audio/ogg", "x-amzn-RequestCharacters": str(len(text))})

    def _stream_slot(self, rest: str) -> Answer:
        slots = self.buckets.transcribe_streams
        if not rest:
            slot = slots.acquire()
            if slot is None:
                # Transcribe's own words for it
                message = f"You have reached your limit of concurrent streams, {slots.limit} (emulated account quota)"
                return error(429, "LimitExceededException", message)
            return Answer(200, json.dumps({"streamId": slot}).encode(), {"Content-Type": "application/json"})
        slot = rest.strip("/").removesuffix("/close")
        if not slots.release(slot):
            return error(404, "NotFoundException", f"no open stream {slot}")
        return Answer(200, b"{}", {"Content-Type": "application/json"})

    @staticmethod
    def _language(voice: str) -> str | None:
        return next((language for language, (name, _) in DEFAULT_VOICES.items() if name == voice), None)

    def _translate(self, request: dict) -> Answer:
        if not self.buckets.translate.take():
            return throttled("translate")
        source, target = request.get("SourceLanguageCode", ""), request.get("TargetLanguageCode", "")
        try:
            text = self._apertium().render(request.get("Text", ""), source, target)
        except TranslationUnavailable as exc:
            return error(400, "UnsupportedLanguagePairException", str(exc))
        body = {"TranslatedText": text, "SourceLanguageCode": source, "TargetLanguageCode": target}
        return Answer(200, json.dumps(body).encode(), {"Content-Type": "application/x-amz-json-1.1"})

    def _apertium(self) -> ApertiumTranslator:
        with self._lock:
            if self._translator is None:
                self._translator = ApertiumTranslator()
            return self._translator

    def close(self) -> None:
        if self._translator is not None:
            self._translator.close()
