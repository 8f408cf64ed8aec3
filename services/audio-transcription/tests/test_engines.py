"""Both engines produce the same results: Transcribe's events mapped through the SDK's own
models, pocketsphinx on real speech; and the Transcribe stream's thread bridge."""

from __future__ import annotations

import asyncio

import pytest
from aws_sdk_transcribe_streaming.models import (
    Alternative,
    Item,
    Result,
    Transcript,
    TranscriptEvent,
    TranscriptResultStreamTranscriptEvent,
)

from audio_transcription.engines import EngineError, Recognition, StreamRefused, UnsupportedLanguage, recognizer_for
from audio_transcription.engines.scripted import SCRIPT, finals_within, timed_script
from audio_transcription.engines.sphinx import SphinxRecognizer
from audio_transcription.engines.transcribe import TranscribeRecognizer, recognitions_from
from audio_transcription.stabilizer import Stabilizer
from broadcast_tools.speech import synthesize, word_error_rate
from tests.support.http2 import Http2FailingEndpoint
from tests.support.ports import free_port


def transcribe_event(is_partial: bool, *items: tuple[str, str, bool]) -> TranscriptEvent:
    return TranscriptEvent(
        transcript=Transcript(
            results=[
                Result(
                    result_id="r-1",
                    start_time=0.5,
                    end_time=1.7,
                    is_partial=is_partial,
                    alternatives=[
                        Alternative(
                            transcript="Hello, world",
                            items=[
                                Item(content=c, type=t, stable=s, start_time=0.5 + i * 0.4, end_time=0.9 + i * 0.4)
                                for i, (c, t, s) in enumerate(items)
                            ],
                        )
                    ],
                )
            ]
        )
    )


def test_transcribe_events_become_results_with_stable_words_and_punctuation():
    event = transcribe_event(
        True, ("Hello", "pronunciation", True), (",", "punctuation", True), ("world", "pronunciation", False)
    )
    (result,) = recognitions_from(event)
    assert (result.result_id, result.is_partial, result.start, result.end) == ("r-1", True, 0.5, 1.7)
    assert [(w.text, w.stable, w.punctuation) for w in result.words] == [
        ("Hello", True, False),
        (",", True, True),
        ("world", False, False),
    ]
    assert [s.text for s in Stabilizer().accept(result)] == ["Hello,"]
    (final,) = recognitions_from(transcribe_event(False, ("Hello", "pronunciation", None)))
    assert final.words[0].stable and not final.is_partial


class FakeSdkStream:
    """The SDK's duplex stream: records audio events; yields the scripted transcript events."""

    def __init__(self, events, fail: Exception | None):
        self.sent: list[bytes] = []
        self.closed = asyncio.Event()
        self._events = events
        self._fail = fail
        self.input_stream = self

    async def send(self, event) -> None:
        self.sent.append(event.value.audio_chunk)

    async def close(self) -> None:
        self.closed.set()

    async def await_output(self):
        async def output():
            for event in self._events:
                yield event
            await self.closed.wait()
            if self._fail:
                raise self._fail

        return None, output()


class FakeSdkClient:
    def __init__(self, events=(), fail: Exception | None = None):
        self.streams: list[FakeSdkStream] = []
        self.inputs = []
        self._events, self._fail = events, fail

    async def start_stream_transcription(self, input):  # noqa: A002 - the SDK's parameter name
        self.inputs.append(input)
        self.streams.append(FakeSdkStream(self._events, self._fail))
        return self.streams[-1]


def test_transcribe_stream_sends_audio_in_events_and_returns_results_in_the_worker_thread():
    event = TranscriptResultStreamTranscriptEvent(value=transcribe_event(False, ("Hello", "pronunciation", True)))
    client = FakeSdkClient(events=[event])
    stream = TranscribeRecognizer(client).open("en-US")
    stream.send(b"\1\0" * 20000)  # 40 KB: split into events of at most 32 KB
    results = stream.finish(timeout=5)
    assert [r.text for r in results] == ["Hello, world"]
    (sdk_stream,) = client.streams
    assert [len(chunk) for chunk in sdk_stream.sent] == [32768, 7232]
    (request,) = client.inputs
    assert (request.language_code, request.media_sample_rate_hertz, request.media_encoding) == ("en-US", 16000, "pcm")
    assert request.enable_partial_results_stabilization and request.partial_results_stability == "high"


def test_a_failed_transcribe_stream_raises_engine_error_so_the_worker_reopens_it():
    client = FakeSdkClient(fail=RuntimeError("stream reset"))
    stream = TranscribeRecognizer(client).open("en-US")
    stream.send(b"\0\0" * 1600)
    with pytest.raises(EngineError, match="stream reset"):
        stream.finish(timeout=5)
    with pytest.raises(EngineError, match="stream reset"):
        stream.results()


def test_pocketsphinx_recognises_real_speech_with_partials_then_a_final():
    text = "Thank you for coming and please ask questions at the end."
    audio = synthesize(text)
    stream = recognizer_for("pocketsphinx").open("en-US")
    results = []
    for i in range(0, len(audio), 3200):
        stream.send(audio[i : i + 3200])
        results += stream.results()
    results += stream.finish(timeout=5)
    finals = [r for r in results if not r.is_partial]
    assert any(r.is_partial for r in results) and finals
    assert word_error_rate(text, " ".join(r.text for r in finals)) <= 0.2
    assert all(0 <= w.start <= w.end for r in finals for w in r.words)


def test_pocketsphinx_closes_a_stream_whose_audio_ends_on_a_frame_boundary():
    # Three 200 ms chunks are exactly twenty 30 ms frames: nothing is left over for the endpointer's last frame
    # (found by the fault suite: a speaker who dropped left a stream closed after silence at such a boundary).
    text = "Thank you for coming."
    audio = synthesize(text)
    chunk = 6400
    audio = audio[: len(audio) // (3 * chunk) * 3 * chunk] + b"\0" * (6 * chunk)
    stream = recognizer_for("pocketsphinx").open("en-US")
    results = []
    for i in range(0, len(audio), chunk):
        stream.send(audio[i : i + chunk])
        results += stream.results()
    results += stream.finish(timeout=5)
    assert [r for r in results if not r.is_partial]


def test_pocketsphinx_prepared_ahead_gives_its_decoder_to_one_session_only():
    recognizer = SphinxRecognizer()
    recognizer.prepare("en-US")
    first, second = recognizer.open("en-US"), recognizer.open("en-US")
    assert first is not second
    text = "Thank you for coming and please ask questions at the end."
    audio = synthesize(text)
    results = []
    for i in range(0, len(audio), 3200):
        first.send(audio[i : i + 3200])
        results += first.results()
    finals = [r for r in results + first.finish(timeout=5) if not r.is_partial]
    assert word_error_rate(text, " ".join(r.text for r in finals)) <= 0.2


def test_a_second_pocketsphinx_warm_up_builds_no_decoder_while_one_is_waiting(monkeypatch):
    import pocketsphinx

    built = []

    class CountingDecoder(pocketsphinx.Decoder):
        def __init__(self, *args, **kwargs):
            built.append(kwargs)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pocketsphinx, "Decoder", CountingDecoder)
    recognizer = SphinxRecognizer()
    recognizer.prepare("en-US")
    recognizer.prepare("en-US")
    assert len(built) == 1
    recognizer.open("en-US")  # takes the waiting decoder
    assert len(built) == 1
    recognizer.prepare("en-US")  # nothing waits now: the next one is built
    assert len(built) == 2


def test_pocketsphinx_refuses_languages_it_cannot_recognise():
    with pytest.raises(UnsupportedLanguage):
        SphinxRecognizer().open("fr-FR")


def test_transcribe_on_a_closed_port_fails_with_a_connection_error_never_a_configuration_error(
    aws_endpoint, monkeypatch
):
    # As on Lambda: region and credentials from the environment; the endpoint from the SDK's own variable.
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_TRANSCRIBE_STREAMING", f"http://127.0.0.1:{free_port()}")
    stream = TranscribeRecognizer().open("en-US")
    stream.send(b"\0\0" * 1600)
    with pytest.raises(EngineError) as failure:
        stream.finish(timeout=30)
    assert "AWS_IO_SOCKET_CONNECTION_REFUSED" in str(failure.value)


def test_transcribe_failing_on_an_accepted_http2_connection_fails_the_stream_with_a_stream_error(
    aws_endpoint, monkeypatch
):
    with Http2FailingEndpoint() as endpoint:
        monkeypatch.setenv("SSL_CERT_FILE", str(endpoint.ca_file))
        monkeypatch.setenv("AWS_REGION", "eu-west-1")
        stream = TranscribeRecognizer(endpoint_url=endpoint.url).open("en-US")
        stream.send(b"\0\0" * 1600)
        with pytest.raises(EngineError) as failure:
            stream.finish(timeout=30)
    assert endpoint.requests and set(endpoint.requests) == {"h2"}  # the request reached it over HTTP/2
    assert "status: 500" in str(failure.value) and "ConfigError" not in str(failure.value)


def test_scripted_recogniser_replays_its_transcript_timed_to_the_audio_it_receives():
    sentences, round_seconds = timed_script()
    stream = recognizer_for("scripted").open("en-US")
    chunk = b"\0\0" * 3200  # 200 ms
    results: list[Recognition] = []
    for _ in range(int((round_seconds + 5) / 0.2)):
        stream.send(chunk)
        results += stream.results()
    finals = [r for r in results if not r.is_partial]
    assert [f.text for f in finals][: len(SCRIPT)] == list(SCRIPT)
    assert [f.end for f in finals][: len(sentences)] == pytest.approx([s.end for s in sentences])
    first = [r for r in results if r.result_id == "s1"]
    partial_texts = [r.text for r in first if r.is_partial]
    assert partial_texts and all(
        later.startswith(earlier) for earlier, later in zip(partial_texts, partial_texts[1:], strict=False)
    )
    assert first[-1].is_partial is False and all(w.stable for w in first[-1].words)
    # Mid-sentence, the last words of a partial may still change (as pocketsphinx's agreement gives them).
    assert any(not w.stable for r in first if r.is_partial for w in r.words)
    # The script goes round again: the seventh final is the first sentence, later in the stream.
    assert finals[len(SCRIPT)].text == SCRIPT[0] and finals[len(SCRIPT)].start == pytest.approx(round_seconds)


def test_scripted_recogniser_counts_the_finals_a_stream_of_given_length_gives():
    _, round_seconds = timed_script()
    stream = recognizer_for("scripted").open("en-US")
    stream.send(b"\0\0" * int(16000 * (round_seconds + 1.0)))
    finals = [r for r in stream.finish(timeout=5) if not r.is_partial]
    assert len(finals) == finals_within(round_seconds + 1.0) == len(SCRIPT) + 1


def test_transcribe_refusing_the_stream_for_its_quota_is_a_stream_refused_not_a_failure(aws_endpoint, monkeypatch):
    # The real SDK client and CRT transport, answered as Transcribe answers a stream past the account's concurrent
    # streams: HTTP 429, x-amzn-errortype LimitExceededException.
    refusal = (429, "LimitExceededException", "You have exceeded your concurrent stream limit")
    with Http2FailingEndpoint(error=refusal) as endpoint:
        monkeypatch.setenv("SSL_CERT_FILE", str(endpoint.ca_file))
        monkeypatch.setenv("AWS_REGION", "eu-west-1")
        stream = TranscribeRecognizer(endpoint_url=endpoint.url).open("en-US")
        stream.send(b"\0\0" * 1600)
        with pytest.raises(StreamRefused) as refused:
            stream.finish(timeout=30)
    assert endpoint.requests
    assert "LimitExceededException" in str(refused.value) and "concurrent stream limit" in str(refused.value)


def test_a_limit_exceeded_event_mid_stream_is_a_stream_refused_and_any_other_failure_is_not():
    from aws_sdk_transcribe_streaming.models import LimitExceededException

    stream = TranscribeRecognizer(FakeSdkClient(fail=LimitExceededException(message="too many streams"))).open("en-US")
    stream.send(b"\0\0" * 1600)
    with pytest.raises(StreamRefused, match="too many streams"):
        stream.finish(timeout=5)
    failed = TranscribeRecognizer(FakeSdkClient(fail=RuntimeError("stream reset"))).open("en-US")
    failed.send(b"\0\0" * 1600)
    with pytest.raises(EngineError) as failure:
        failed.finish(timeout=5)
    assert not isinstance(failure.value, StreamRefused)


def test_the_local_stream_quota_refuses_a_stream_past_it_as_transcribe_does_and_frees_a_slot_when_a_stream_ends():
    from audio_transcription.engines.local_quota import QuotaLimitedRecognizer, StreamQuota
    from local_runtime.management_api import ManagementApiServer, RecordingSink
    from local_runtime.quotas import STREAMS_PATH, AccountBuckets, EmulatedQuotas
    from local_runtime.stand_ins import StoodInServices

    buckets = AccountBuckets(EmulatedQuotas(transcribe_concurrent_streams=2))
    server = ManagementApiServer(RecordingSink(), stand_ins=StoodInServices(buckets)).start()
    try:
        recognizer = recognizer_for("scripted", stream_quota_url=f"{server.base_url}{STREAMS_PATH}")
        assert isinstance(recognizer, QuotaLimitedRecognizer)
        first, second = recognizer.open("en-US"), recognizer.open("en-US")
        with pytest.raises(StreamRefused, match="LimitExceededException: .*limit of concurrent streams, 2"):
            recognizer.open("en-US")
        first.send(b"\0\0" * 3200)
        first.finish(timeout=5)
        third = recognizer.open("en-US")  # the finished stream's slot
        second.abort()
        third.abort()
        third.abort()  # given back once
        assert (buckets.transcribe_streams.in_use, buckets.transcribe_streams.refused) == (0, 1)
        unreachable = QuotaLimitedRecognizer(recognizer_for("scripted"), StreamQuota(f"http://127.0.0.1:{free_port()}"))
        with pytest.raises(EngineError) as failure:
            unreachable.open("en-US")
        assert not isinstance(failure.value, StreamRefused)
    finally:
        server.stop()


def test_a_stream_slot_its_worker_never_gave_back_is_taken_back_after_its_lease():
    from local_runtime.quotas import StreamSlots

    now = [0.0]
    slots = StreamSlots(1, lease_seconds=960, clock=lambda: now[0])
    assert slots.acquire() is not None and slots.acquire() is None
    now[0] = 961.0
    assert slots.acquire() is not None
    assert StreamSlots(0).acquire() is not None  # 0: no quota
