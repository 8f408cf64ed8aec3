"""Fixtures for the audio service: a fresh Kinesis stream and the runtimes built on it."""

from __future__ import annotations

import uuid

import boto3
import pytest

from audio_transcription.app import AudioRuntime
from audio_transcription.settings import AudioSettings
from tests.support.tables import shard_positions_table


@pytest.fixture
def kinesis(aws_endpoint):
    return boto3.client("kinesis")  # region and endpoint from the aws_endpoint fixture


@pytest.fixture
def audio_stream(kinesis) -> dict:
    name = f"audio-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name)
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    shard = kinesis.list_shards(StreamName=name)["Shards"][0]["ShardId"]
    return {"name": name, "arn": summary["StreamARN"], "shard": shard}


@pytest.fixture
def audio_settings(audio_stream, settings) -> AudioSettings:
    return AudioSettings(
        audio_stream_name=audio_stream["name"],
        transcription_engine="pocketsphinx",
        shard_positions_table=shard_positions_table(settings),
        control_queue_url=settings.control_queue_url,
    )


@pytest.fixture
def audio_runtime(settings, audio_settings, clock, kinesis) -> AudioRuntime:
    return AudioRuntime.build_audio(settings, audio_settings, clock, kinesis)


@pytest.fixture
def audio_harness(runtime, audio_runtime, sink):
    """Session management's routes on its runtime, ``sendAudio`` on the audio runtime."""
    from tests.support.harness import Harness

    return Harness(runtime, sink, {"sendAudio": audio_runtime})
