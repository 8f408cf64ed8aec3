"""Amazon Transcribe streaming through ``aws-sdk-transcribe-streaming`` (AWS's successor
to the deprecated ``amazon-transcribe``).

The SDK is asyncio; the worker is not. Each recogniser runs one event loop in a daemon
thread, and each stream is two tasks on it: one sends queued audio events, one reads
transcript events into a thread-safe queue. Partial-results stabilisation is on, so
Transcribe marks the words it will not change (``Item.stable``).

The client is built once per recogniser, on its loop, the only way the SDK allows:
``await AsyncTranscribeStreamingConfig.resolve(...)``, which reads the Region
(``AWS_REGION``) and the credentials (Lambda's ``AWS_ACCESS_KEY_ID`` and friends)
from the environment. The endpoint is ``TRANSCRIBE_ENDPOINT_URL`` when set, else the
SDK's own resolution. The transport is the SDK's CRT HTTP client: the operation is a
duplex HTTP/2 event stream, which the default aiohttp transport refuses. Every failure
of a stream, configuration included, reaches the worker as :class:`EngineError`; the
service's ``LimitExceededException`` (the account's concurrent-stream quota), whether it
refuses the stream at its start (HTTP 429) or ends it with that event, as its subclass
:class:`StreamRefused`, which the worker retries with backoff (docs/ARCHITECTURE.md, "Throttling").
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from audio_transcription.engines import EngineError, Recognition, StreamRefused, Word, join_words
from audio_transcription.settings import SAMPLE_RATE
from broadcast_shared.observability import logger

#: Transcribe accepts audio events up to 32 KB; larger chunks are split
MAX_EVENT_BYTES = 32 * 1024
#: resolving the client's configuration reads the environment and, at most, config files
CLIENT_SETUP_SECONDS = 10.0


def recognitions_from(event: Any) -> list[Recognition]:
    """A ``TranscriptEvent`` as results (the first alternative of each)."""
    transcript = getattr(event, "transcript", None)
    found = []
    for result in (transcript.results if transcript else None) or []:
        if not result.alternatives:
            continue
        alternative = result.alternatives[0]
        words = tuple(
            Word(
                text=item.content or "",
                start=float(item.start_time),
                end=float(item.end_time),
                stable=bool(item.stable) or not result.is_partial,
                punctuation=item.type == "punctuation",
            )
            for item in alternative.items or []
        )
        found.append(
            Recognition(
                result_id=result.result_id or "",
                text=alternative.transcript or join_words(words),
                is_partial=bool(result.is_partial),
                start=float(result.start_time),
                end=float(result.end_time),
                words=words,
            )
        )
    return found


def engine_error(error: BaseException) -> EngineError:
    """A stream's failure as the worker handles it: refused for the quota, or failed."""
    from aws_sdk_transcribe_streaming.models import LimitExceededException

    if isinstance(error, LimitExceededException):
        return StreamRefused(f"Amazon Transcribe refused the stream (LimitExceededException): {error.message}")
    return EngineError(f"Transcribe stream failed: {error!r}")


async def streaming_client(endpoint_url: str = "") -> Any:
    """The SDK's client as it runs on Lambda: configuration resolved from the environment, CRT transport."""
    from aws_sdk_transcribe_streaming.client import AsyncTranscribeStreamingClient
    from aws_sdk_transcribe_streaming.config import AsyncTranscribeStreamingConfig
    from smithy_http.aio.crt import AWSCRTHTTPClient

    overrides: dict[str, Any] = {"transport": AWSCRTHTTPClient()}
    if endpoint_url:
        overrides["endpoint_uri"] = endpoint_url
    return AsyncTranscribeStreamingClient(config=await AsyncTranscribeStreamingConfig.resolve(**overrides))


class TranscribeRecognizer:
    def __init__(self, client: Any | None = None, stability: str = "high", endpoint_url: str = "") -> None:
        self._client = client
        self._stability = stability
        self._endpoint_url = endpoint_url
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True, name="transcribe-loop").start()

    def prepare(self, language: str) -> None:
        """Build the client (the SDK and CRT imported, configuration resolved) ahead of the first stream."""
        try:
            self._built_client()
        except EngineError as exc:
            logger.info("Transcribe client not prepared", extra={"error": str(exc)})

    def open(self, language: str) -> TranscribeStream:
        return TranscribeStream(self._built_client(), self._loop, language, self._stability)

    def _built_client(self) -> Any:
        with self._lock:
            if self._client is None:
                built = asyncio.run_coroutine_threadsafe(streaming_client(self._endpoint_url), self._loop)
                try:
                    self._client = built.result(CLIENT_SETUP_SECONDS)
                except Exception as exc:  # noqa: BLE001 - any configuration failure is the engine's
                    raise EngineError(f"Transcribe client could not be configured: {exc!r}") from exc
            return self._client


class TranscribeStream:
    def __init__(self, client: Any, loop: asyncio.AbstractEventLoop, language: str, stability: str) -> None:
        self._loop = loop
        self._results: queue.Queue[Recognition] = queue.Queue()
        self._audio: asyncio.Queue[bytes | None] | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._done: Future[None] = asyncio.run_coroutine_threadsafe(self._run(client, language, stability), loop)

    async def _run(self, client: Any, language: str, stability: str) -> None:
        from aws_sdk_transcribe_streaming.models import (
            AudioEvent,
            AudioStreamAudioEvent,
            StartStreamTranscriptionInput,
            TranscriptResultStreamTranscriptEvent,
        )

        self._audio = asyncio.Queue()
        self._ready.set()
        try:
            stream = await client.start_stream_transcription(
                input=StartStreamTranscriptionInput(
                    language_code=language,
                    media_sample_rate_hertz=SAMPLE_RATE,
                    media_encoding="pcm",
                    enable_partial_results_stabilization=True,
                    partial_results_stability=stability,
                )
            )

            audio = self._audio
            assert audio is not None  # made on this loop before the stream starts

            async def send() -> None:
                while (pcm := await audio.get()) is not None:
                    for offset in range(0, len(pcm), MAX_EVENT_BYTES):
                        chunk = pcm[offset : offset + MAX_EVENT_BYTES]
                        await stream.input_stream.send(AudioStreamAudioEvent(value=AudioEvent(audio_chunk=chunk)))
                await stream.input_stream.close()

            async def receive() -> None:
                _, output = await stream.await_output()
                async for event in output:
                    if isinstance(event, TranscriptResultStreamTranscriptEvent):
                        for recognition in recognitions_from(event.value):
                            self._results.put(recognition)
                    elif hasattr(event, "value") and isinstance(event.value, Exception):
                        raise event.value

            await asyncio.gather(send(), receive())
        except Exception as exc:  # noqa: BLE001 - reported to the worker, which re-opens the stream
            self._error = exc
            raise

    def send(self, pcm: bytes) -> None:
        self._check()
        self._ready.wait(5)
        if self._audio is None:
            raise EngineError("the Amazon Transcribe stream did not start")
        self._loop.call_soon_threadsafe(self._audio.put_nowait, pcm)

    def results(self) -> list[Recognition]:
        """Results first: a failure is raised once every result that arrived before it was taken."""
        found = self._drain()
        if not found:
            self._check()
        return found

    def finish(self, timeout: float) -> list[Recognition]:
        if self._error is None and self._audio is not None:
            self._loop.call_soon_threadsafe(self._audio.put_nowait, None)
            try:
                self._done.result(timeout)
            except FutureTimeout:
                self._done.cancel()
                self._error = self._error or TimeoutError(f"the stream did not end within {timeout} s")
            except Exception:  # noqa: BLE001, S110 - already recorded in self._error
                pass
        return self.results()

    def abort(self) -> None:
        self._done.cancel()

    def cut(self, result_id: str, at: float) -> bool:
        """Transcribe never changes a stable word: the result goes on, its closed words left out above."""
        return False

    def _drain(self) -> list[Recognition]:
        found = []
        while True:
            try:
                found.append(self._results.get_nowait())
            except queue.Empty:
                return found

    def _check(self) -> None:
        if self._error is not None:
            raise engine_error(self._error) from self._error
