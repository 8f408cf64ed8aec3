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
import time
import uuid

import boto3

from audio_transcription.app import AudioRuntime
from audio_transcription.measurement import measure
from audio_transcription.settings import AudioSettings
from benchmarks.harness import aws_in_process, speaker_session, stream_the_talk
from benchmarks.stats import describe, percentile
from broadcast_tools.speech import TALK, synthesize, word_error_rate
from tests.support.events import FakeLambdaContext, message_event
from tests.support.running_platform import serving_applied_platform
from tests.support.tables import fresh_settings

CHUNK_MS = 100


def run() -> None:
    talk = synthesize(TALK)
    size = 32 * CHUNK_MS
    chunks = [talk[i : i + size] for i in range(0, len(talk) - size + 1, size)]
    _measurement(chunks)
    _send_audio(chunks)
    _audio_to_final()


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
    with aws_in_process() as (management_endpoint, sink):
        from audio_transcription.handlers import send_audio
        from session_management.app import SessionRuntime

        kinesis = boto3.client("kinesis")
        stream = f"bench-audio-{uuid.uuid4().hex[:6]}"
        kinesis.create_stream(StreamName=stream, ShardCount=1)
        settings = fresh_settings(boto3.client("dynamodb"), management_endpoint)
        runtime = AudioRuntime.build_audio(
            settings,
            AudioSettings(audio_stream_name=stream, audio_rate_per_second=1000, audio_seconds_per_second=1000.0),
        )
        speaker_session(SessionRuntime.build_session(settings), sink)
        context = FakeLambdaContext()
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


def _audio_to_final() -> None:
    with serving_applied_platform() as stack:
        result = stream_the_talk(stack)
    print("== audio to final transcript, the talk in real time through `make dev`'s platform (pocketsphinx)")
    print(f"  {describe([latency for _, latency in result.final_latencies()])}")
    print(
        f"  partials: {len(result.partials)}, finals: {len(result.finals)}, "
        f"word error rate {word_error_rate(TALK, result.final_text):.3f}"
    )
