"""Route ``sendAudio``: what is accepted lands on the session's stream; every rejection is an error."""

from __future__ import annotations

import base64
import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audio_transcription.chunks import AudioChunk
from audio_transcription.handlers.send_audio import handler as send_audio_handler
from audio_transcription.ingest import AudioIngest
from tests.support.events import FakeLambdaContext
from tests.support.streams import read_stream


def tone(milliseconds: float, frequency: float = 220.0, amplitude: float = 8000.0) -> bytes:
    t = np.arange(int(16 * milliseconds)) / 16000
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype("<i2").tobytes()


def audio(pcm: bytes, sequence: int = 0) -> dict:
    return {"action": "sendAudio", "audio": base64.b64encode(pcm).decode(), "sequence": sequence}


def test_accepted_chunk_is_appended_keyed_by_session_with_its_measurement(audio_harness, kinesis, audio_stream):
    session_id = audio_harness.speaker_with_session()
    audio_harness.send("spk", audio(tone(100), sequence=0))
    audio_harness.send("spk", audio(tone(100), sequence=1))

    records = read_stream(kinesis, audio_stream)
    assert [r["PartitionKey"] for r in records] == [session_id, session_id]
    chunk = AudioChunk.decode(records[0]["Data"])
    assert (chunk.session_id, chunk.sequence, chunk.connection_id) == (session_id, 0, "spk")
    record = json.loads(records[0]["Data"])  # the record's keys, as a worker of the previous release reads them
    assert set(record) == {"sessionId", "sequence", "connectionId", "receivedAt", "duration", "audio", "measurement"}
    assert record["audio"] == base64.b64encode(tone(100)).decode()
    assert set(record["measurement"]) == {"duration", "rmsDbfs", "clipped", "highBand", "pitchHz", "frameDb"}
    assert chunk.pcm == tone(100) and chunk.duration == pytest.approx(0.1)
    assert chunk.measurement is not None and -30 < chunk.measurement.rms_dbfs < -10
    assert not audio_harness.sink.messages("spk", "error")


def test_chunks_sent_while_paused_are_accepted_and_counted_but_carry_no_audio(audio_harness, kinesis, audio_stream):
    audio_harness.speaker_with_session()
    audio_harness.send("spk", {"action": "pauseBroadcast"})
    audio_harness.send("spk", audio(tone(100), sequence=0))

    (record,) = read_stream(kinesis, audio_stream)
    chunk = AudioChunk.decode(record["Data"])
    assert chunk.paused and chunk.pcm == b"" and chunk.duration == pytest.approx(0.1)
    assert not audio_harness.sink.messages("spk", "error")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "sendAudio", "audio": "not base64!", "sequence": 0}, "INVALID_AUDIO"),
        (audio(b"\x01\x00\x02"), "INVALID_AUDIO"),  # odd byte count
        (audio(tone(5)), "INVALID_AUDIO"),  # shorter than 20 ms
        ({"action": "sendAudio", "audio": "", "sequence": 0}, "INVALID_MESSAGE"),
        ({"action": "sendAudio", "audio": "AAAA", "sequence": -1}, "INVALID_MESSAGE"),
        ({"action": "sendAudio", "audio": "AAAA"}, "INVALID_MESSAGE"),
        ({"action": "sendAudio", "audio": base64.b64encode(tone(100)).decode(), "sequence": "42"}, "INVALID_MESSAGE"),
        ({"action": "sendAudio", "audio": base64.b64encode(tone(100)).decode(), "sequence": True}, "INVALID_MESSAGE"),
        ({"action": "sendAudio", "audio": base64.b64encode(tone(100)).decode(), "sequence": 4.0}, "INVALID_MESSAGE"),
        ({"action": "sendAudio", "audio": "AAAA", "sequence": 0, "extra": 1}, "INVALID_MESSAGE"),
        (audio(tone(2500)), "MESSAGE_TOO_LARGE"),  # 2.5 s: over the message size limit
        (audio(tone(1000)), "MESSAGE_TOO_LARGE"),  # 1 s: over one 32 KB frame
    ],
)
def test_bad_chunks_are_refused_with_a_code_and_nothing_is_appended(audio_harness, kinesis, audio_stream, body, code):
    audio_harness.speaker_with_session()
    audio_harness.send("spk", body)

    error = audio_harness.last("spk", "error")
    assert (error["code"], error["action"]) == (code, "sendAudio")
    assert "Traceback" not in json.dumps(error)
    assert read_stream(kinesis, audio_stream) == []


def test_chunk_longer_than_the_bound_is_refused_by_duration(audio_harness, audio_runtime, kinesis, audio_stream):
    audio_harness.speaker_with_session()
    limit = audio_runtime.audio.max_chunk_bytes
    audio_harness.send("spk", audio(b"\0" * (limit + 2)))
    # Under the message size limit but over the duration bound.
    assert len(json.dumps(audio(b"\0" * (limit + 2)))) < audio_runtime.audio.max_audio_message_bytes
    error = audio_harness.last("spk", "error")
    assert error["code"] == "INVALID_AUDIO" and error["details"]["maxMs"] == 750


def test_the_longest_chunk_fits_one_32_kb_websocket_frame(audio_harness, audio_runtime, kinesis, audio_stream):
    audio_harness.speaker_with_session()
    longest = audio_runtime.audio.max_chunk_bytes
    message = audio(b"\0" * longest, sequence=2**53 - 1)
    assert len(json.dumps(message).encode()) <= 32 * 1024 == audio_runtime.audio.max_audio_message_bytes
    audio_harness.send("spk", message)
    assert not audio_harness.sink.messages("spk", "error")
    assert len(read_stream(kinesis, audio_stream)) == 1


def test_listener_cannot_send_audio(audio_harness, kinesis, audio_stream):
    session_id = audio_harness.speaker_with_session()
    audio_harness.listener_in(session_id, "lst", "es")
    audio_harness.send("lst", audio(tone(100)))
    assert audio_harness.last("lst", "error")["code"] == "FORBIDDEN"
    assert read_stream(kinesis, audio_stream) == []


def test_speaker_without_a_session_is_told_to_create_one(audio_harness, kinesis, audio_stream):
    audio_harness.connect("spk", "speaker", user_id="user-1")
    audio_harness.send("spk", audio(tone(100)))
    assert audio_harness.last("spk", "error")["code"] == "NOT_IN_SESSION"


def test_audio_for_an_ended_session_is_refused(audio_harness, audio_runtime, kinesis, audio_stream, clock):
    session_id = audio_harness.speaker_with_session()
    audio_runtime.sessions.end(session_id, clock.now())
    audio_harness.send("spk", audio(tone(100)))
    assert audio_harness.last("spk", "error")["code"] == "SESSION_ENDED"
    assert read_stream(kinesis, audio_stream) == []


def test_a_speakers_connection_row_is_read_once_in_a_while_not_at_every_chunk(
    audio_harness, audio_runtime, kinesis, audio_stream, clock
):
    audio_harness.speaker_with_session()
    reads = []
    audio_runtime.dynamodb.meta.client.meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **_: reads.append(params["TableName"])
    )
    for sequence in range(50):  # ten seconds of five chunks a second
        audio_harness.send("spk", audio(tone(200), sequence))
        clock.advance(0.2)
    remembered = audio_runtime.audio.remember_connection_seconds
    assert reads.count(audio_runtime.settings.connections_table) == int(10 / remembered)
    assert reads.count(audio_runtime.settings.sessions_table) == 50  # a pause or an end is seen at the next chunk
    assert len(read_stream(kinesis, audio_stream)) == 50


def test_audio_for_an_ended_session_read_afresh_is_refused_without_a_second_read(
    audio_harness, audio_runtime, kinesis, audio_stream, clock
):
    session_id = audio_harness.speaker_with_session()
    audio_runtime.sessions.end(session_id, clock.now())
    reads = []
    audio_runtime.dynamodb.meta.client.meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **_: reads.append(params["TableName"])
    )
    audio_harness.send("spk", audio(tone(100)))
    assert audio_harness.last("spk", "error")["code"] == "SESSION_ENDED"
    assert reads.count(audio_runtime.settings.connections_table) == 1


def test_a_new_session_on_the_same_connection_gets_the_next_chunk_at_once(
    audio_harness, audio_runtime, kinesis, audio_stream, clock
):
    first = audio_harness.speaker_with_session()
    audio_harness.send("spk", audio(tone(100), 0))  # the connection row is remembered, naming the first session
    audio_harness.send("spk", {"action": "endSession"})
    audio_harness.send("spk", {"action": "createSession", "sourceLanguage": "en"})
    second = audio_harness.last("spk", "sessionCreated")["sessionId"]
    audio_harness.send("spk", audio(tone(100), 0))

    assert [r["PartitionKey"] for r in read_stream(kinesis, audio_stream)] == [first, second]
    assert not audio_harness.sink.messages("spk", "error")


def test_audio_rate_limit_per_connection_refuses_the_excess_and_keeps_what_was_accepted(
    audio_harness, audio_runtime, kinesis, audio_stream
):
    audio_harness.speaker_with_session()
    limit = audio_runtime.audio.audio_rate_per_second
    for sequence in range(limit + 3):  # the manual clock does not move: one window
        audio_harness.send("spk", audio(tone(20), sequence))

    errors = audio_harness.sink.messages("spk", "error")
    assert [e["code"] for e in errors] == ["RATE_LIMITED"]  # answered once a second, then silently refused
    assert [AudioChunk.decode(r["Data"]).sequence for r in read_stream(kinesis, audio_stream)] == list(range(limit))


def measuring_with(measure, audio_runtime, kinesis):
    """``sendAudio``'s runtime with its ingest measuring chunks through ``measure``."""
    ingest = AudioIngest(
        audio_runtime.audio,
        kinesis,
        audio_runtime.sessions,
        audio_runtime.rate_limiter,
        audio_runtime.clock,
        measure=measure,
    )
    return dataclasses.replace(audio_runtime, ingest=ingest)


def test_measurement_failure_still_appends_the_audio_with_neutral_dynamics(
    runtime, audio_runtime, sink, kinesis, audio_stream
):
    from tests.support.harness import Harness

    def broken(pcm: bytes):
        raise FloatingPointError("measurement failed")

    harness = Harness(runtime, sink, {"sendAudio": measuring_with(broken, audio_runtime, kinesis)})
    harness.speaker_with_session()
    harness.send("spk", audio(tone(100)))
    (record,) = read_stream(kinesis, audio_stream)
    assert AudioChunk.decode(record["Data"]).measurement is None
    assert not harness.sink.messages("spk", "error")


def test_a_warm_up_measures_a_chunk_of_silence_so_the_first_audio_finds_numpy_loaded(audio_runtime, kinesis):
    measured: list[bytes] = []

    def recording(pcm: bytes):
        measured.append(pcm)

    warmed = measuring_with(recording, audio_runtime, kinesis)
    answer = send_audio_handler.using(warmed)({"type": "warmUp", "sourceLanguage": "en"}, FakeLambdaContext())
    assert answer == {"warmedUp": True, "measurement": True}
    assert measured == [bytes(audio_runtime.audio.min_chunk_bytes)]


def test_importing_send_audios_handler_leaves_numpy_to_the_first_measurement():
    # numpy is about 40 ms of the import: the warm-up (or an unwarmed environment's first chunk) loads it
    probe = "import sys, audio_transcription.handlers.send_audio; print('numpy' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "False"


def test_audio_faster_than_real_time_is_refused_after_a_short_burst(
    audio_harness, audio_runtime, kinesis, audio_stream, clock
):
    audio_harness.speaker_with_session()
    longest = audio_runtime.audio.max_chunk_ms
    for sequence in range(60):  # 60 messages of 750 ms in one second: 45 s of audio
        audio_harness.send("spk", audio(tone(longest), sequence))
    accepted = len(read_stream(kinesis, audio_stream))
    burst = audio_runtime.audio.audio_burst_seconds
    assert accepted == int(burst * 1000 // longest)
    errors = audio_harness.sink.messages("spk", "error")
    assert [e["code"] for e in errors] == ["RATE_LIMITED"]  # answered once a second, then silently refused
    assert errors[0]["details"] == {"audioSecondsPerSecond": 1.25, "burstSeconds": burst}

    clock.advance(3)  # three seconds later 3.75 s of audio more: five chunks of 750 ms
    for sequence in range(60, 70):
        audio_harness.send("spk", audio(tone(longest), sequence))
    assert len(read_stream(kinesis, audio_stream)) == accepted + 5


def test_a_real_time_speaker_is_never_held_back_by_the_audio_budget(audio_harness, kinesis, audio_stream, clock):
    audio_harness.speaker_with_session()
    for sequence in range(300):  # 30 s of 100 ms chunks, each sent as it is spoken
        audio_harness.send("spk", audio(tone(100), sequence))
        clock.advance(0.1)
    assert not audio_harness.sink.messages("spk", "error")
    assert len(read_stream(kinesis, audio_stream)) == 300


DOCUMENTED_CODES = {
    "INVALID_JSON", "INVALID_MESSAGE", "MESSAGE_TOO_LARGE", "INVALID_AUDIO", "RATE_LIMITED", "NOT_IN_SESSION",
    "SESSION_ENDED", "FORBIDDEN",
}  # fmt: skip
hostile_sequences = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64), st.just(2**53 - 1), st.text(max_size=5), st.booleans(),
    st.floats(allow_nan=False), st.none(),
)  # fmt: skip
hostile_audio = st.one_of(
    st.binary(max_size=30_000).map(lambda b: base64.b64encode(b).decode()), st.text(max_size=50),
    st.integers(0, 40_000).map(lambda n: "A" * n),
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=hostile_sequences, audio_field=hostile_audio)
def test_any_send_audio_gets_nothing_or_a_documented_error(
    audio_harness, kinesis, audio_stream, clock, sequence, audio_field
):
    if audio_harness.runtime.connections.get("spk") is None:
        audio_harness.speaker_with_session()
    clock.advance(10)  # a fresh rate-limit window and a full audio budget: each example judged on its content
    before = len(audio_harness.sink.messages("spk"))
    response = audio_harness.send("spk", {"action": "sendAudio", "audio": audio_field, "sequence": sequence})
    assert response == {"statusCode": 200}
    for answer in audio_harness.sink.messages("spk")[before:]:
        assert answer["type"] == "error" and answer["code"] in DOCUMENTED_CODES, answer
