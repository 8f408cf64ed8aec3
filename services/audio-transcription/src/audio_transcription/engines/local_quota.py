"""A local recogniser's streams under the account's concurrent-stream quota, as the local runtime emulates it.

Amazon Transcribe refuses a stream beyond the account's concurrent streams with ``LimitExceededException``
(HTTP 429); pocketsphinx and the scripted recogniser run inside the worker and know no quota. Locally, each
stream first takes a slot from the local runtime (``LOCAL_STREAM_QUOTA_URL``, :mod:`local_runtime.quotas`),
which every worker environment of the stack shares, and gives it back when it ends; past the quota the runtime
answers as Transcribe does and the stream is refused with the same :class:`StreamRefused` the real engine's
``LimitExceededException`` becomes, so the worker's handling is the one that runs on AWS.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

from audio_transcription.engines import EngineError, Recognition, Recognizer, RecognizerStream, StreamRefused
from broadcast_shared.observability import logger

#: how long a slot request may take (the local runtime answers at once)
SLOT_TIMEOUT_SECONDS = 5.0


class StreamQuota:
    """The local runtime's stream slots: ``POST {url}`` takes one, ``POST {url}/{id}/close`` gives it back."""

    def __init__(self, url: str) -> None:
        self._url = url.rstrip("/")

    def acquire(self) -> str:
        try:
            with urllib.request.urlopen(  # noqa: S310 - the local runtime's own http:// URL
                urllib.request.Request(self._url, data=b"{}", method="POST"), timeout=SLOT_TIMEOUT_SECONDS
            ) as answer:
                return str(json.load(answer)["streamId"])
        except urllib.error.HTTPError as exc:
            body = exc.read()
            if exc.code == 429:
                message = json.loads(body or b"{}").get("message", "")
                raise StreamRefused(f"LimitExceededException: {message}") from exc
            raise EngineError(f"the local stream quota answered {exc.code}: {body!r}") from exc
        except (OSError, ValueError, KeyError) as exc:
            raise EngineError(f"the local stream quota cannot be reached: {exc!r}") from exc

    def release(self, stream_id: str) -> None:
        """Best effort: a slot not given back expires with the runtime's lease."""
        try:
            urllib.request.urlopen(  # noqa: S310 - the local runtime's own http:// URL
                urllib.request.Request(f"{self._url}/{stream_id}/close", data=b"{}", method="POST"),
                timeout=SLOT_TIMEOUT_SECONDS,
            ).close()
        except OSError as exc:
            logger.warning("could not give a local stream slot back", extra={"error": repr(exc)})


class QuotaLimitedRecognizer:
    """A local recogniser whose every stream holds one of the account's concurrent-stream slots while it is open."""

    def __init__(self, recognizer: Recognizer, quota: StreamQuota) -> None:
        self._recognizer = recognizer
        self._quota = quota

    def prepare(self, language: str) -> None:
        self._recognizer.prepare(language)

    def open(self, language: str) -> QuotaLimitedStream:
        slot = self._quota.acquire()
        try:
            stream = self._recognizer.open(language)
        except BaseException:
            self._quota.release(slot)
            raise
        return QuotaLimitedStream(stream, self._quota, slot)


class QuotaLimitedStream:
    def __init__(self, stream: RecognizerStream, quota: StreamQuota, slot: str) -> None:
        self._stream = stream
        self._quota = quota
        self._slot: str | None = slot
        self._lock = threading.Lock()

    def send(self, pcm: bytes) -> None:
        self._stream.send(pcm)

    def results(self) -> list[Recognition]:
        return self._stream.results()

    def finish(self, timeout: float) -> list[Recognition]:
        try:
            return self._stream.finish(timeout)
        finally:
            self._release()

    def abort(self) -> None:
        try:
            self._stream.abort()
        finally:
            self._release()

    def cut(self, result_id: str, at: float) -> bool:
        return self._stream.cut(result_id, at)

    def _release(self) -> None:
        with self._lock:
            slot, self._slot = self._slot, None
        if slot is not None:
            self._quota.release(slot)
