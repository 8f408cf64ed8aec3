"""Audio: sendAudio per chunk, emotion measurement per chunk, audio to final transcript locally.

- sendAudio: the handler in-process against moto (Kinesis, DynamoDB) and the local
  Management API, 100 ms chunks of the Piper test talk; p50/p95 per chunk.
- measurement: ``measurement.measure`` alone on the same chunks; p50/p95, and as a share
  of the audio's own duration.
- audio to final transcript: the talk streamed in real time through the deployed local
  platform (pocketsphinx); for each final, the time from sending the chunk that holds
  the end of its audio to the speaker receiving it; p50/p95.
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import os
import time
import uuid

import boto3
from moto.server import ThreadedMotoServer

from audio_transcription.app import AudioRuntime
from audio_transcription.measurement import measure
from audio_transcription.settings import AudioSettings
from benchmarks.stats import describe, percentile
from broadcast_tools.speech import TALK, synthesize, word_error_rate
from local_runtime.management_api import ManagementApiServer, RecordingSink
from tests.support.events import FakeLambdaContext, connect_event, message_event
from tests.support.ports import free_port
from tests.support.running_platform import serving_applied_platform
from tests.support.tables import fresh_settings
from tests.support.talk import stream_talk

CHUNK_MS = 100
STREAM_CHUNK_MS = 200


def run() -> None:
    talk = synthesize(TALK)
    size = 32 * CHUNK_MS
    chunks = [talk[i : i + size] for i in range(0, len(talk) - size + 1, size)]
    _measurement(chunks)
    _send_audio(chunks)
    _audio_to_final(talk)


def _measurement(chunks: list[bytes]) -> None:
    samples = []
    for chunk in chunks * 5:
        started = time.perf_counter()
        measure(chunk)
        samples.append((time.perf_counter() - started) * 1000)
    print(f"== emotion measurement per {CHUNK_MS} ms chunk (numpy)")
    print(f"  {describe(samples)}")
    print(f"  p95 is {percentile(samples, 0.95) / CHUNK_MS:.2%} of the chunk's own duration")


def _send_audio(chunks: list[bytes]) -> None:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server.start()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    sink = RecordingSink()
    management = ManagementApiServer(sink).start()
    try:
        from audio_transcription.handlers import send_audio
        from session_management.app import SessionRuntime
        from session_management.handlers import connect, create_session

        kinesis = boto3.client("kinesis")
        stream = f"bench-audio-{uuid.uuid4().hex[:6]}"
        kinesis.create_stream(StreamName=stream, ShardCount=1)
        settings = fresh_settings(boto3.client("dynamodb"), management.endpoint)
        sessions = SessionRuntime.build_session(settings)
        runtime = AudioRuntime.build_audio(
            settings,
            AudioSettings(audio_stream_name=stream, audio_rate_per_second=1000, audio_seconds_per_second=1000.0),
        )
        sink.open("speaker")
        context = FakeLambdaContext()
        with contextlib.redirect_stdout(io.StringIO()):
            connect.handler.using(sessions)(connect_event("speaker", "speaker", "bench-user"), context)
            create_session.handler.using(sessions)(
                message_event("speaker", {"action": "createSession", "sourceLanguage": "en"}), context
            )
        handler = send_audio.handler.using(runtime)
        samples = []
        for sequence, chunk in enumerate(chunks):
            event = message_event(
                "speaker", {"action": "sendAudio", "audio": base64.b64encode(chunk).decode(), "sequence": sequence}
            )
            with contextlib.redirect_stdout(io.StringIO()):
                started = time.perf_counter()
                handler(event, context)
                samples.append((time.perf_counter() - started) * 1000)
        errors = sink.messages("speaker", "error")
        print(f"== sendAudio per {CHUNK_MS} ms chunk, in-process handler (moto Kinesis and DynamoDB)")
        print(f"  {describe(samples)}   refused: {len(errors)}")
        print(
            "  (each chunk: connection get, rate-limit update, session get, audio budget update, PutRecord;"
            " moto ~15 ms per call)"
        )
    finally:
        management.stop()
        server.stop()
        os.environ.pop("AWS_ENDPOINT_URL", None)


def _audio_to_final(talk: bytes) -> None:
    with serving_applied_platform() as stack:
        result = stream_talk(stack.url, talk, chunk_ms=STREAM_CHUNK_MS, pace=1.0)
    latencies = []
    for arrived, message in result.transcripts:
        if message["isPartial"]:
            continue
        last_chunk = min(int(message["endTime"] * 1000 // STREAM_CHUNK_MS), max(result.sent_at))
        latencies.append((arrived - result.sent_at[last_chunk]) * 1000)
    print("== audio to final transcript, the talk in real time through `make dev`'s platform (pocketsphinx)")
    print(f"  {describe(latencies)}")
    print(
        f"  partials: {len(result.partials)}, finals: {len(result.finals)}, "
        f"word error rate {word_error_rate(TALK, result.final_text):.3f}"
    )
