"""The worker: order, duplicates and ownership with two workers interleaved, engine failure
and re-open, reading ahead on its shard, forwarding to the translation pipeline."""

from __future__ import annotations

import base64
import dataclasses
import json
import threading

import boto3
import numpy as np
import pytest

from audio_transcription.chunks import AudioChunk
from audio_transcription.engines import EngineError, Recognition
from audio_transcription.handlers.transcription_worker import handler as worker_handler
from audio_transcription.measurement import measure
from audio_transcription.transcription import SessionTranscriber
from audio_transcription.worker_app import WorkerRuntime
from tests.support.events import FakeLambdaContext
from tests.support.metrics import emitted_metrics
from tests.support.ports import free_port
from tests.support.streams import read_stream

CHUNK_SECONDS = 0.1


class EchoStream:
    """A recogniser double: each chunk's first sample is its "word"; partials as audio arrives,
    the final on finish. ``fail_at`` makes the n-th ``results()`` call raise, once."""

    def __init__(self, log: list, fail_at: int | None) -> None:
        self.words: list[str] = []
        self._log = log
        self._fail_at = fail_at
        self._calls = 0

    def send(self, pcm: bytes) -> None:
        self.words.append(f"c{int(np.frombuffer(pcm[:2], '<i2')[0])}")

    def results(self) -> list[Recognition]:
        self._calls += 1
        if self._fail_at is not None and self._calls == self._fail_at:
            raise EngineError("connection reset")
        return []

    def finish(self, timeout: float) -> list[Recognition]:
        self._log.append(" ".join(self.words))
        end = len(self.words) * CHUNK_SECONDS
        return [Recognition("r1", " ".join(self.words), False, 0.0, end)] if self.words else []

    def abort(self) -> None:
        self._log.append("aborted")


class EchoRecognizer:
    def __init__(self, fail_at: int | None = None) -> None:
        self.finished: list[str] = []
        self.opened = 0
        self._fail_at = fail_at

    def open(self, language: str) -> EchoStream:
        self.opened += 1
        return EchoStream(self.finished, self._fail_at if self.opened == 1 else None)


def chunk(session_id: str, sequence: int) -> AudioChunk:
    pcm = np.full(int(16000 * CHUNK_SECONDS), sequence, dtype="<i2").tobytes()
    return AudioChunk(
        session_id=session_id,
        sequence=sequence,
        connection_id="spk",
        received_at=0.0,
        pcm=pcm,
        duration=CHUNK_SECONDS,
        measurement=measure(pcm),
    )


def records(session_id: str, sequences: list[int], first_record: int = 1000) -> list[tuple[str, AudioChunk]]:
    return [(str(first_record + i), chunk(session_id, s)) for i, s in enumerate(sequences)]


def kinesis_event(stream_records: list[dict], audio_stream: dict) -> dict:
    """What the event source mapping delivers for these records of the stream."""
    return {
        "Records": [
            {
                "kinesis": {
                    "partitionKey": r["PartitionKey"],
                    "sequenceNumber": r["SequenceNumber"],
                    "data": base64.b64encode(r["Data"]).decode(),
                    "kinesisSchemaVersion": "1.0",
                    "approximateArrivalTimestamp": 0,
                },
                "eventSource": "aws:kinesis",
                "eventID": f"{audio_stream['shard']}:{r['SequenceNumber']}",
                "eventSourceARN": audio_stream["arn"],
                "awsRegion": "eu-west-1",
            }
            for r in stream_records
        ]
    }


@pytest.fixture
def build(settings, audio_settings, clock, kinesis):
    def make(recognizer, lambda_client=None, kinesis_client=None, **audio_changes) -> WorkerRuntime:
        audio = audio_settings.model_copy(update=audio_changes)
        return WorkerRuntime.build_worker(settings, audio, clock, recognizer, lambda_client, kinesis_client or kinesis)

    return make


class CountingKinesis:
    """The emulator's Kinesis, keeping every page of records the worker's reader got."""

    def __init__(self, kinesis) -> None:
        self._kinesis = kinesis
        self.pages: list[dict] = []

    def get_shard_iterator(self, **request):
        return self._kinesis.get_shard_iterator(**request)

    def get_records(self, **request):
        self.pages.append(self._kinesis.get_records(**request))
        return self.pages[-1]


def deps_of(runtime: WorkerRuntime):
    return runtime.worker._deps


def test_two_workers_interleaved_never_transcribe_a_chunk_twice(harness, build, sink):
    session_id = harness.speaker_with_session()
    first, second = EchoRecognizer(), EchoRecognizer()
    a = SessionTranscriber(session_id, deps_of(build(first)))
    b = SessionTranscriber(session_id, deps_of(build(second)))

    a.add(records(session_id, [0, 2, 1, 3, 3]))  # out of order, with a duplicate
    b.add(records(session_id, list(range(10))))  # b started with the same checkpoint: its claim fails
    a.add(records(session_id, [4, 5], first_record=1005))
    a.close()
    b.close()

    assert b.taken_over and not a.taken_over
    assert first.finished == ["c0 c1 c2 c3 c4 c5"]
    assert second.finished == []
    finals = [m["text"] for m in sink.messages("spk", "transcript") if not m["isPartial"]]
    assert finals == ["c0 c1 c2 c3 c4 c5"]


def test_a_later_worker_skips_records_already_read_and_takes_over_the_rest(harness, build):
    session_id = harness.speaker_with_session()
    first, later = EchoRecognizer(), EchoRecognizer()
    a = SessionTranscriber(session_id, deps_of(build(first)))
    a.add(records(session_id, [0, 1, 2]))
    a.close()
    # The event source mapping redelivers what the first worker read ahead, then new audio.
    c = SessionTranscriber(session_id, deps_of(build(later)))
    c.add(records(session_id, [0, 1, 2, 3, 4]))
    c.close()
    assert first.finished == ["c0 c1 c2"] and later.finished == ["c3 c4"]


def test_a_gap_is_bridged_and_the_audio_goes_on(harness, build):
    session_id = harness.speaker_with_session()
    recognizer = EchoRecognizer()
    transcriber = SessionTranscriber(session_id, deps_of(build(recognizer, reorder_window=2)))
    transcriber.add(records(session_id, [0, 2, 3, 4, 5]))
    transcriber.close()
    assert recognizer.finished == ["c0 c2 c3 c4 c5"]


def test_engine_failure_reopens_the_stream_and_replays_the_audio_since_the_last_final(harness, build, sink):
    session_id = harness.speaker_with_session()
    recognizer = EchoRecognizer(fail_at=2)
    transcriber = SessionTranscriber(session_id, deps_of(build(recognizer)))
    for sequence in range(4):
        transcriber.add(records(session_id, [sequence], first_record=1000 + sequence))
    transcriber.close()
    assert recognizer.opened == 2
    assert recognizer.finished == ["aborted", "c0 c1 c2 c3"]
    (final,) = [m for m in sink.messages("spk", "transcript") if not m["isPartial"]]
    assert final["text"] == "c0 c1 c2 c3"


def test_a_resumed_speaker_gets_its_transcripts_on_the_new_connection_at_once(harness, build, sink):
    session_id = harness.speaker_with_session()
    recognizer = EchoRecognizer()
    transcriber = SessionTranscriber(session_id, deps_of(build(recognizer)))
    transcriber.add(records(session_id, [0, 1]))
    # The speaker's connection dropped; it resumed the session from a new one and goes on counting.
    harness.disconnect("spk")
    harness.connect("spk-2", "speaker", user_id="user-1")
    harness.send("spk-2", {"action": "createSession", "sourceLanguage": "en", "sessionId": session_id})
    assert harness.last("spk-2", "sessionCreated")["resumed"] is True
    resumed = [
        (str(1002 + i), c.model_copy(update={"connection_id": "spk-2"}))
        for i, (_, c) in enumerate(records(session_id, [2, 3]))
    ]
    transcriber.add(resumed)
    transcriber.close()
    assert recognizer.finished == ["c0 c1 c2 c3"]
    (final,) = [m for m in sink.messages("spk-2", "transcript") if not m["isPartial"]]
    assert final["text"] == "c0 c1 c2 c3"


def test_paused_chunks_advance_the_audio_offset_but_are_not_transcribed_nor_counted_heard(harness, build):
    session_id = harness.speaker_with_session()
    recognizer = EchoRecognizer()
    deps = deps_of(build(recognizer))
    transcriber = SessionTranscriber(session_id, deps)
    paused = chunk(session_id, 1).model_copy(update={"pcm": b"", "measurement": None})
    transcriber.add([("1", chunk(session_id, 0)), ("2", paused), ("3", chunk(session_id, 2))])
    transcriber.close()
    assert recognizer.finished == ["c0 c2"]
    # The checkpoint's heard audio is what was streamed: what sessionStatus prices before the meter adds it.
    checkpoint = deps.checkpoints.get(session_id)
    assert (checkpoint.offset, checkpoint.heard) == pytest.approx((3 * CHUNK_SECONDS, 2 * CHUNK_SECONDS))
    session = harness.runtime.sessions.get(session_id)
    assert session is not None and session.billed_usage.audio_seconds == pytest.approx(2 * CHUNK_SECONDS)


def streamed(audio_harness, kinesis, audio_stream: str, chunks: int) -> list[dict]:
    """A speaker's session and ``chunks`` chunks of 100 ms sent through ``sendAudio`` (chunk n holds the value n):
    the records on the stream."""
    audio_harness.speaker_with_session()
    for sequence in range(chunks):
        pcm = np.full(1600, sequence, dtype="<i2").tobytes()
        audio_harness.send(
            "spk", {"action": "sendAudio", "audio": base64.b64encode(pcm).decode(), "sequence": sequence}
        )
    return read_stream(kinesis, audio_stream)


def test_handler_transcribes_its_batch_then_reads_ahead_on_the_shard(audio_harness, build, kinesis, audio_stream, sink):
    stream_records = streamed(audio_harness, kinesis, audio_stream, chunks=6)
    event = kinesis_event(stream_records[:2], audio_stream)  # the worker reads the other four itself
    recognizer = EchoRecognizer()
    runtime = build(recognizer, deadline_margin_seconds=0, shard_idle_seconds=0, shard_poll_seconds=0)
    context = FakeLambdaContext()
    assert worker_handler.using(runtime)(event, context) == {"batchItemFailures": []}
    assert recognizer.finished == ["c0 c1 c2 c3 c4 c5"]

    # The mapping's next batch is what the worker already read: nothing is transcribed twice.
    later = EchoRecognizer()
    worker_handler.using(build(later, deadline_margin_seconds=0, shard_idle_seconds=0))(
        {
            "Records": [
                dict(
                    event["Records"][0],
                    kinesis=dict(event["Records"][0]["kinesis"], sequenceNumber=stream_records[3]["SequenceNumber"]),
                )
            ]
        },
        context,
    )
    assert later.finished == []
    assert json.dumps(sink.messages("spk", "transcript")).count('"isPartial": false') == 1


@pytest.mark.parametrize(
    "spoil",
    [
        lambda record: {k: v for k, v in record.items() if k != "sessionId"},  # was a KeyError
        lambda record: dict(record, audio="not base64!"),
        lambda record: dict(record, sequence=-1),
        lambda record: dict(record, measurement={"duration": 0.1}),
    ],
)
def test_a_record_the_chunk_model_refuses_is_skipped_counted_and_the_rest_transcribed(
    audio_harness, build, kinesis, audio_stream, capsys, caplog, spoil
):
    stream_records = streamed(audio_harness, kinesis, audio_stream, chunks=3)
    last = stream_records[-1]
    stream_records[-1] = dict(last, Data=json.dumps(spoil(json.loads(last["Data"]))).encode())
    recognizer = EchoRecognizer()
    runtime = build(recognizer, deadline_margin_seconds=0, shard_idle_seconds=0, shard_poll_seconds=0)
    capsys.readouterr()

    answer = worker_handler.using(runtime)(kinesis_event(stream_records, audio_stream), FakeLambdaContext())

    assert answer == {"batchItemFailures": []}
    assert recognizer.finished == ["c0 c1"]
    (skipped,) = [r for r in caplog.records if r.getMessage() == "unreadable audio record skipped"]
    assert skipped.code == "INVALID_MESSAGE"  # type: ignore[attr-defined]
    assert '"AudioRecordsUnreadable":[1.0]' in capsys.readouterr().out


def test_segments_are_forwarded_with_their_span_and_dynamics(harness, build, invoke_api):
    session_id = harness.speaker_with_session()
    harness.listener_in(session_id, "es-1", "es")
    runtime = build(EchoRecognizer(), translation_function_name="translate")
    transcriber = SessionTranscriber(session_id, deps_of(runtime))
    transcriber.add(records(session_id, [0, 1]))
    transcriber.close()
    # a warm-up per listened language at the first audio, then each lane: es, and the source language's, which
    # carries every final so that the pipeline keeps the speaker's transcript
    warm, *calls = invoke_api.invokes
    assert warm == ("translate", {"type": "warmUp", "sourceLanguage": "en", "targetLanguage": "es"}, True)
    assert sorted(payload["targetLanguage"] for _, payload, _ in calls) == ["en", "es"]
    ((function, segment, asynchronous),) = [call for call in calls if call[1]["targetLanguage"] == "es"]
    assert (function, asynchronous) == ("translate", False)
    assert segment["sessionId"] == session_id and segment["sourceLanguage"] == "en"
    assert (segment["text"], segment["isPartial"], segment["startTime"], segment["endTime"]) == ("c0 c1", False, 0, 0.2)
    assert set(segment["dynamics"]) == {"volume", "rate", "energy"}


def test_forwarding_retries_with_botocore_and_a_failure_never_stops_the_audio(harness, build):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from audio_transcription.forwarder import FORWARD_ATTEMPTS, forward_config

    attempts = []

    class Throttling(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if payload["type"] != "warmUp":
                attempts.append(payload["targetLanguage"])
            body = json.dumps({"Type": "User", "message": "Rate exceeded"}).encode()
            self.send_response(429)
            self.send_header("x-amzn-ErrorType", "TooManyRequestsException")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Throttling)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = boto3.client(
            "lambda", endpoint_url=f"http://127.0.0.1:{server.server_port}", config=forward_config(5.0)
        )
        session_id = harness.speaker_with_session()
        harness.listener_in(session_id, "es-1", "es")
        recognizer = EchoRecognizer()
        runtime = build(recognizer, client, translation_function_name="translate")
        transcriber = SessionTranscriber(session_id, deps_of(runtime))
        transcriber.add(records(session_id, [0, 1]))
        transcriber.close()
    finally:
        server.shutdown()
    assert sorted(attempts) == sorted(["en", "es"] * FORWARD_ATTEMPTS)  # the es lane and the source language's
    assert recognizer.finished == ["c0 c1"]
    assert [m["text"] for m in harness.sink.messages("spk", "transcript")] == ["c0 c1"]


def test_an_unreachable_speaker_never_stops_the_audio_or_the_forwarding(harness, build, invoke_api):
    from botocore.config import Config

    from broadcast_shared.notifier import Notifier

    session_id = harness.speaker_with_session()
    harness.listener_in(session_id, "es-1", "es")
    runtime = build(EchoRecognizer(), translation_function_name="translate")
    nowhere = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=0.5),
    )
    deps = dataclasses.replace(deps_of(runtime), notifier=Notifier(nowhere))
    transcriber = SessionTranscriber(session_id, deps)
    transcriber.add(records(session_id, [0, 1]))
    transcriber.close()
    # the warm-up, then c0 c1 on the es lane and on the source language's
    assert [payload.get("text") for _, payload, _ in invoke_api.invokes] == [None, "c0 c1", "c0 c1"]


class PoisonRecognizer(EchoRecognizer):
    """A recogniser with a bug: a chunk whose first sample is ``POISON`` raises (not an engine error)."""

    POISON = 666

    def open(self, language: str) -> EchoStream:
        stream = super().open(language)
        send = stream.send

        def poisoned(pcm: bytes) -> None:
            if int(np.frombuffer(pcm[:2], "<i2")[0]) == self.POISON:
                raise ZeroDivisionError("a bug meets a record")
            send(pcm)

        stream.send = poisoned
        return stream


def send_chunks(harness, connection_id: str, samples: list[int], first_sequence: int = 0) -> None:
    for offset, sample in enumerate(samples):
        pcm = np.full(1600, sample, dtype="<i2").tobytes()
        message = {"action": "sendAudio", "audio": base64.b64encode(pcm).decode(), "sequence": first_sequence + offset}
        harness.send(connection_id, message)


def test_a_poison_record_fails_only_its_own_session_and_is_reported_in_batch_item_failures(
    audio_harness, build, kinesis, audio_stream, sink
):
    audio_harness.speaker_with_session("victim")
    audio_harness.speaker_with_session("attacker")
    send_chunks(audio_harness, "victim", [0, 1])
    send_chunks(audio_harness, "attacker", [7, PoisonRecognizer.POISON, 8])
    send_chunks(audio_harness, "victim", [2, 3], first_sequence=2)
    stream_records = read_stream(kinesis, audio_stream)
    recognizer = PoisonRecognizer()
    runtime = build(recognizer, deadline_margin_seconds=0, shard_idle_seconds=0, shard_poll_seconds=0)

    answer = worker_handler.using(runtime)(kinesis_event(stream_records, audio_stream), FakeLambdaContext())

    attacker_first = stream_records[2]["SequenceNumber"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": attacker_first}]}
    finals = [m["text"] for m in sink.messages("victim", "transcript") if not m["isPartial"]]
    assert finals == ["c0 c1 c2 c3"]
    # The shard's position stays before the failure: the retried batch is read again, not skipped.
    assert runtime.worker._positions.get(audio_stream["arn"], audio_stream["shard"]) == ""


def test_a_sequence_of_two_to_the_53_costs_the_worker_no_memory_and_no_other_session(
    audio_harness, build, kinesis, audio_stream, sink
):
    import tracemalloc

    audio_harness.speaker_with_session("victim")
    audio_harness.speaker_with_session("attacker")
    send_chunks(audio_harness, "attacker", [1])
    send_chunks(audio_harness, "attacker", [2], first_sequence=2**53 - 1)
    send_chunks(audio_harness, "victim", [0, 1, 2])
    stream_records = read_stream(kinesis, audio_stream)
    runtime = build(EchoRecognizer(), deadline_margin_seconds=0, shard_idle_seconds=0, shard_poll_seconds=0)

    tracemalloc.start()
    try:
        answer = worker_handler.using(runtime)(kinesis_event(stream_records, audio_stream), FakeLambdaContext())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert answer == {"batchItemFailures": []}
    assert peak < 256 * 2**20
    assert [m["text"] for m in sink.messages("victim", "transcript") if not m["isPartial"]] == ["c0 c1 c2"]
    assert [m["text"] for m in sink.messages("attacker", "transcript") if not m["isPartial"]] == ["c1 c2"]


def test_an_unreachable_transcribe_is_reported_as_the_sessions_error_not_a_failed_batch(
    audio_harness, build, kinesis, audio_stream, sink, capsys, monkeypatch
):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    audio_harness.speaker_with_session()
    send_chunks(audio_harness, "spk", [0, 1, 2])
    event = kinesis_event(read_stream(kinesis, audio_stream), audio_stream)
    # The real Amazon Transcribe engine, built from the settings as on Lambda, pointed at a closed port.
    runtime = build(
        None,
        transcription_engine="transcribe",
        transcribe_endpoint_url=f"http://127.0.0.1:{free_port()}",
        deadline_margin_seconds=0,
        shard_idle_seconds=0,
        shard_poll_seconds=0,
    )
    assert worker_handler.using(runtime)(event, FakeLambdaContext()) == {"batchItemFailures": []}
    (error,) = sink.messages("spk", "error")
    assert (error["code"], error["action"]) == ("TRANSCRIPTION_UNAVAILABLE", "sendAudio")
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert any(line.get("RecognizerFailures") for line in emitted)


class SlowToFinishRecognizer:
    """Each stream's ``finish`` waits for every other stream's: closed one at a time, the first waits out
    its whole timeout and the barrier breaks; closed together, they all pass it at once."""

    def __init__(self, streams: int) -> None:
        self.barrier = threading.Barrier(streams)
        self.timeouts: list[float] = []
        self.passed = 0

    def open(self, language: str) -> SlowToFinishRecognizer.Stream:
        return SlowToFinishRecognizer.Stream(self)

    class Stream:
        def __init__(self, recognizer: SlowToFinishRecognizer) -> None:
            self._recognizer = recognizer

        def send(self, pcm: bytes) -> None:
            pass

        def results(self) -> list[Recognition]:
            return []

        def finish(self, timeout: float) -> list[Recognition]:
            self._recognizer.timeouts.append(timeout)
            try:
                self._recognizer.barrier.wait(timeout)
            except threading.BrokenBarrierError as exc:
                raise EngineError("did not end in time") from exc
            self._recognizer.passed += 1
            return []

        def abort(self) -> None:
            pass


def test_the_worker_closes_every_stream_together_within_its_remaining_time(harness, build):
    from audio_transcription.worker import SHUTDOWN_RESERVE_SECONDS, ShardRecord

    sessions = [harness.speaker_with_session(f"spk{i}") for i in range(4)]
    recognizer = SlowToFinishRecognizer(len(sessions))
    runtime = build(recognizer)
    batch = [
        ShardRecord("shardId-000000000000", str(1000 + i), chunk(session_id, 0).encode())
        for i, session_id in enumerate(sessions)
    ]
    remaining = 4.0  # below the deadline margin: the worker closes its streams right after the batch
    runtime.worker.run(batch, "arn:aws:kinesis:eu-west-1:123456789012:stream/audio", lambda: remaining)
    assert recognizer.passed == len(sessions)
    assert all(timeout <= remaining - SHUTDOWN_RESERVE_SECONDS for timeout in recognizer.timeouts)


def test_the_next_invocation_skips_its_batch_behind_the_shards_position_and_reads_on_after_it(
    audio_harness, build, kinesis, audio_stream, sink, capsys
):
    audio_harness.speaker_with_session()
    send_chunks(audio_harness, "spk", [0, 1, 2, 3, 4, 5])
    stream_records = read_stream(kinesis, audio_stream)
    quick = {"deadline_margin_seconds": 0, "shard_idle_seconds": 0, "shard_poll_seconds": 0}
    first = EchoRecognizer()
    worker_handler.using(build(first, **quick))(kinesis_event(stream_records[:2], audio_stream), FakeLambdaContext())
    assert first.finished == ["c0 c1 c2 c3 c4 c5"]
    capsys.readouterr()

    send_chunks(audio_harness, "spk", [6, 7], first_sequence=6)
    later, reader = EchoRecognizer(), CountingKinesis(kinesis)
    runtime = build(later, kinesis_client=reader, **quick)
    # The mapping delivers the two records after its checkpoint: both were read by the first reader.
    worker_handler.using(runtime)(kinesis_event(stream_records[2:4], audio_stream), FakeLambdaContext())

    assert later.finished == ["c6 c7"]
    # its reader's first page starts after the first reader's position, not after the batch
    assert [r["Data"] for r in reader.pages[0]["Records"]] == [
        r["Data"] for r in read_stream(kinesis, audio_stream)[6:]
    ]
    counted = emitted_metrics(capsys)
    assert counted["RecordsBehindPosition"] == 2 and "AudioRecordsAlreadyRead" not in counted
    positions = runtime.worker._positions
    assert (
        positions.get(audio_stream["arn"], audio_stream["shard"])
        == read_stream(kinesis, audio_stream)[-1]["SequenceNumber"]
    )


class CountingRecognizer(EchoRecognizer):
    """An echo recogniser that counts the chunks its streams were sent."""

    def __init__(self) -> None:
        super().__init__()
        self.streams: list[EchoStream] = []

    def open(self, language: str) -> EchoStream:
        self.streams.append(super().open(language))
        return self.streams[-1]

    @property
    def chunks(self) -> int:
        return sum(len(stream.words) for stream in self.streams)


def test_a_page_read_far_behind_is_fed_a_few_records_at_a_time_and_the_deadline_stops_it_midway(
    audio_harness, build, kinesis, audio_stream
):
    """A loaded invocation reading far behind the tip: its deadline comes in the middle of a page. It stops there
    and records how far it fed, and the next invocation goes on from that record: every chunk once."""
    from audio_transcription.worker import FEED_RECORDS, ShardRecord

    audio_harness.speaker_with_session()
    send_chunks(audio_harness, "spk", list(range(3 * FEED_RECORDS)))
    stream_records = read_stream(kinesis, audio_stream)
    shard_records = [ShardRecord(audio_stream["shard"], r["SequenceNumber"], r["Data"]) for r in stream_records]
    quick = {"deadline_margin_seconds": 10, "shard_idle_seconds": 0, "shard_poll_seconds": 0}
    first = CountingRecognizer()
    runtime = build(first, **quick)
    # The mapping delivers the first record; the reader's one page holds the others. The deadline passes while the
    # page's second piece is being fed.
    fed = 1 + 2 * FEED_RECORDS
    runtime.worker.run(shard_records[:1], audio_stream["arn"], lambda: 60.0 if first.chunks < fed else 0.0)
    assert first.finished == [" ".join(f"c{n}" for n in range(fed))]
    positions = runtime.worker._positions
    assert positions.get(audio_stream["arn"], audio_stream["shard"]) == stream_records[fed - 1]["SequenceNumber"]

    later = CountingRecognizer()
    # The mapping's next batch is behind the position: the reader goes on from the last record fed.
    build(later, **quick).worker.run(shard_records[1:3], audio_stream["arn"], lambda: 60.0)
    assert later.finished == [" ".join(f"c{n}" for n in range(fed, 3 * FEED_RECORDS))]


def test_an_invocation_wholly_behind_the_position_returns_at_once_when_the_shard_is_at_its_tip(
    audio_harness, build, kinesis, audio_stream
):
    audio_harness.speaker_with_session()
    send_chunks(audio_harness, "spk", [0, 1, 2, 3])
    stream_records = read_stream(kinesis, audio_stream)
    quick = {"deadline_margin_seconds": 0, "shard_idle_seconds": 0, "shard_poll_seconds": 0}
    worker_handler.using(build(EchoRecognizer(), **quick))(
        kinesis_event(stream_records[:1], audio_stream), FakeLambdaContext()
    )
    # The talk is over; the mapping catches up. An idle shard would keep this worker for an hour of its clock.
    reader = CountingKinesis(kinesis)
    runtime = build(
        EchoRecognizer(),
        kinesis_client=reader,
        deadline_margin_seconds=0,
        shard_idle_seconds=3600,
        shard_poll_seconds=0,
    )
    assert worker_handler.using(runtime)(kinesis_event(stream_records[1:3], audio_stream), FakeLambdaContext()) == {
        "batchItemFailures": []
    }
    assert len(reader.pages) == 1


def test_the_shards_position_moves_only_from_the_value_its_mover_last_saw(settings, audio_settings, clock):
    from audio_transcription.checkpoints import ShardPositionRepository

    positions = ShardPositionRepository(boto3.resource("dynamodb").Table(audio_settings.shard_positions_table))
    assert positions.get("arn:stream", "shard-0") == ""
    assert positions.advance("arn:stream", "shard-0", "", "100", clock.now())
    assert not positions.advance("arn:stream", "shard-0", "", "150", clock.now())  # created meanwhile
    assert positions.advance("arn:stream", "shard-0", "100", "200", clock.now())
    assert not positions.advance("arn:stream", "shard-0", "100", "300", clock.now())  # moved meanwhile
    assert positions.get("arn:stream", "shard-0") == "200"
    assert positions.get("arn:stream", "shard-1") == ""


def test_the_readers_lag_counts_how_long_the_audio_waited_to_be_read(
    audio_harness, build, kinesis, audio_stream, clock, capsys
):
    audio_harness.speaker_with_session()
    send_chunks(audio_harness, "spk", [0, 1, 2, 3])
    stream_records = read_stream(kinesis, audio_stream)
    # The reader gets to the records 30 s after they reached the stream (an invocation boundary, say).
    clock.current = stream_records[1]["ApproximateArrivalTimestamp"].timestamp() + 30
    capsys.readouterr()
    runtime = build(EchoRecognizer(), deadline_margin_seconds=0, shard_idle_seconds=0, shard_poll_seconds=0)
    worker_handler.using(runtime)(kinesis_event(stream_records[:1], audio_stream), FakeLambdaContext())
    assert 29_000 <= emitted_metrics(capsys)["AudioReadBehindLatest"] <= 31_000


class PreparingRecognizer(EchoRecognizer):
    def __init__(self) -> None:
        super().__init__()
        self.prepared: list[str] = []

    def prepare(self, language: str) -> None:
        self.prepared.append(language)


@pytest.mark.parametrize(
    ("event", "prepared", "answer"),
    [
        ({"type": "warmUp", "sourceLanguage": "es"}, ["es"], {"warmedUp": True, "recognizer": "es"}),
        ({"type": "warmUp"}, [], {"warmedUp": False, "code": "INVALID_MESSAGE"}),  # once warmed nothing, said True
        ({"type": "warmUp", "sourceLanguage": "None"}, [], {"warmedUp": False, "code": "UNSUPPORTED_LANGUAGE"}),
    ],
)
def test_a_warm_up_loads_the_recogniser_for_the_language_it_names_and_only_a_valid_one(build, event, prepared, answer):
    recognizer = PreparingRecognizer()
    result = worker_handler.using(build(recognizer))(event, FakeLambdaContext())
    assert recognizer.prepared == prepared
    assert answer.items() <= result.items()


@pytest.fixture
def stream_quota():
    """The local runtime's stream slots at an account quota of one concurrent stream, on its HTTP server."""
    from local_runtime.management_api import ManagementApiServer, RecordingSink
    from local_runtime.quotas import STREAMS_PATH, AccountBuckets, EmulatedQuotas
    from local_runtime.stand_ins import StoodInServices

    buckets = AccountBuckets(EmulatedQuotas(transcribe_concurrent_streams=1))
    server = ManagementApiServer(RecordingSink(), stand_ins=StoodInServices(buckets)).start()
    yield buckets.transcribe_streams, f"{server.base_url}{STREAMS_PATH}"
    server.stop()


@pytest.fixture
def fresh_meter(monkeypatch):
    from broadcast_shared.meter import Meter

    fresh = Meter()
    monkeypatch.setattr("audio_transcription.transcription.meter", fresh)
    return fresh


def control_messages(queue_url: str) -> list[dict]:
    """The control queue's messages so far, taken off it."""
    sqs = boto3.client("sqs")
    answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for message in answer.get("Messages", []):
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def test_a_stream_refused_for_the_quota_holds_the_audio_tells_speaker_and_listeners_once_and_resumes_in_order(
    harness, build, settings, sink, clock, stream_quota, fresh_meter, capsys
):
    """The listeners are shown captions held back through the session's broadcast state: it changes, and the control
    queue's consumer (``publish_broadcast_state``) gets one message for each change."""
    from audio_transcription.engines.local_quota import QuotaLimitedRecognizer, StreamQuota
    from local_runtime.metering import meter_counts

    slots, url = stream_quota
    other_talk = slots.acquire()  # another talk holds the account's only stream
    session_id = harness.speaker_with_session()
    echo = EchoRecognizer()
    transcriber = SessionTranscriber(session_id, deps_of(build(QuotaLimitedRecognizer(echo, StreamQuota(url)))))
    for sequence in range(3):
        transcriber.add(records(session_id, [sequence], first_record=1000 + sequence))
        clock.advance(CHUNK_SECONDS)
        transcriber.tick(clock.now())
    clock.advance(30)  # past several backoffs: still refused, told once
    transcriber.tick(clock.now())
    (error,) = sink.messages("spk", "error")
    assert (error["code"], error["action"]) == ("TRANSCRIPTION_THROTTLED", "sendAudio")
    assert echo.opened == 0 and transcriber.waiting_for_stream
    assert slots.refused >= 2
    assert harness.runtime.sessions.get(session_id).captions_delayed
    assert control_messages(settings.control_queue_url) == [{"sessionId": session_id}]
    slots.release(other_talk)  # the other talk ends
    transcriber.add(records(session_id, [3], first_record=1003))
    clock.advance(30)
    transcriber.tick(clock.now())
    transcriber.close()
    # Every chunk held while refused reached the stream once it opened, in order; the slot was given back.
    assert echo.opened == 1 and echo.finished == ["c0 c1 c2 c3"]
    (final,) = [m for m in sink.messages("spk", "transcript") if not m["isPartial"]]
    assert final["text"] == "c0 c1 c2 c3" and final["startTime"] == 0.0
    assert slots.in_use == 0 and len(sink.messages("spk", "error")) == 1
    assert not harness.runtime.sessions.get(session_id).captions_delayed
    assert control_messages(settings.control_queue_url) == [{"sessionId": session_id}]
    capsys.readouterr()
    fresh_meter.flush()
    counted = meter_counts("f", capsys.readouterr().out.splitlines())
    throttled = [
        v["ThrottledCalls"] for k, v in counted.items() if (k.service, k.session) == ("transcribe", session_id)
    ]
    assert throttled == [slots.refused]


def test_a_worker_taking_over_a_session_shown_held_back_clears_it_when_its_stream_answers(harness, build):
    session_id = harness.speaker_with_session()
    sessions = harness.runtime.sessions
    sessions.update_broadcast(session_id, captions_delayed=True)  # by the worker before this one
    transcriber = SessionTranscriber(session_id, deps_of(build(EchoRecognizer())))
    transcriber.add(records(session_id, [0, 1]))
    transcriber.close()
    assert not sessions.get(session_id).captions_delayed


def test_audio_held_past_the_hold_bound_is_dropped_oldest_first_and_counted(harness, build, sink, clock, stream_quota):
    from audio_transcription.engines.local_quota import QuotaLimitedRecognizer, StreamQuota

    slots, url = stream_quota
    other_talk = slots.acquire()
    session_id = harness.speaker_with_session()
    echo = EchoRecognizer()
    runtime = build(QuotaLimitedRecognizer(echo, StreamQuota(url)), refused_hold_seconds=10)
    transcriber = SessionTranscriber(session_id, deps_of(runtime))
    # 12 s of audio in 0.1 s chunks while refused: the first 2 s do not fit the 10 s held.
    for sequence in range(120):
        transcriber.add(records(session_id, [sequence], first_record=1000 + sequence))
        clock.advance(CHUNK_SECONDS)
    slots.release(other_talk)
    clock.advance(30)
    transcriber.tick(clock.now())
    transcriber.close()
    (heard,) = echo.finished
    assert heard.split() == [f"c{n}" for n in range(20, 120)]


def test_the_real_transcribe_engine_refused_at_the_socket_holds_the_audio_and_retries_after_the_backoff(
    harness, build, sink, clock, fresh_meter, capsys, monkeypatch
):
    import time

    from local_runtime.metering import meter_counts
    from tests.support.http2 import Http2FailingEndpoint

    def until(condition, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:
            transcriber.tick(clock.now())
            time.sleep(0.05)
        assert condition()

    refusal = (429, "LimitExceededException", "You have exceeded your concurrent stream limit")
    with Http2FailingEndpoint(error=refusal) as endpoint:
        monkeypatch.setenv("SSL_CERT_FILE", str(endpoint.ca_file))
        monkeypatch.setenv("AWS_REGION", "eu-west-1")
        session_id = harness.speaker_with_session()
        runtime = build(None, transcription_engine="transcribe", transcribe_endpoint_url=endpoint.url)
        transcriber = SessionTranscriber(session_id, deps_of(runtime))
        transcriber.add(records(session_id, [0, 1]))
        until(lambda: transcriber.waiting_for_stream)
        assert [(e["code"], e["action"]) for e in sink.messages("spk", "error")] == [
            ("TRANSCRIPTION_THROTTLED", "sendAudio")
        ]
        transcriber.add(records(session_id, [2], first_record=1002))  # held, not streamed: no new request
        assert len(endpoint.requests) == 1
        clock.advance(10)  # the backoff is over: the stream is opened again with the held audio, and refused again
        until(lambda: len(endpoint.requests) == 2 and transcriber.waiting_for_stream)
        transcriber.abandon()
    assert len(sink.messages("spk", "error")) == 1  # told once per outage
    capsys.readouterr()
    fresh_meter.flush()
    counted = meter_counts("f", capsys.readouterr().out.splitlines())
    assert [v["ThrottledCalls"] for k, v in counted.items() if k.service == "transcribe"] == [2]
