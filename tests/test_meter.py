"""The cost meter: every call a shared-layer client makes is counted with its billable units, by
service, operation, session, language and segment kind, and written as EMF the collector reads back."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from broadcast_shared import aws
from broadcast_shared.meter import Meter, message_units, payload_units, polly_billable_characters, scope
from broadcast_shared.observability import logger
from broadcast_shared.pricing import SessionUsage
from local_runtime.metering import CallKey, meter_counts


@pytest.fixture
def meter(monkeypatch: pytest.MonkeyPatch) -> Meter:
    """A fresh meter in place of the environment's own (clients attach to it when built)."""
    fresh = Meter()
    monkeypatch.setattr("broadcast_shared.aws.meter", fresh)
    return fresh


def flushed(meter: Meter, capsys: pytest.CaptureFixture[str]) -> dict[CallKey, dict[str, float]]:
    """What CloudWatch would receive, as the local collector reads it back."""
    capsys.readouterr()
    meter.flush()
    return {key: dict(counts) for key, counts in meter_counts("f", capsys.readouterr().out.splitlines()).items()}


def test_billing_rules():
    assert polly_billable_characters('<speak><prosody rate="90%">Hola &amp; adiós</prosody></speak>', "ssml") == 12
    assert polly_billable_characters("<b>", "text") == 3
    assert [message_units(n) for n in (0, 1, 32 * 1024, 32 * 1024 + 1, 100_000)] == [1, 1, 1, 2, 4]
    assert [payload_units(n) for n in (1, 25 * 1024, 25 * 1024 + 1)] == [1, 1, 2]


def test_dynamodb_capacity_kinesis_payload_and_messages_are_counted_per_session(
    aws_endpoint: str, management_api, sink, meter: Meter, capsys: pytest.CaptureFixture[str]
):
    dynamodb = aws.client("dynamodb")
    table = f"meter-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName=table, ShardCount=1)
    management = aws.client("apigatewaymanagementapi", endpoint_url=management_api.endpoint)
    sink.open("listener-1")
    message = json.dumps({"type": "translation", "text": "a" * 40_000}).encode()
    flushed(meter, capsys)  # the set-up calls are not what this test counts

    with scope(session="s-1", language="es", kind="final"):
        dynamodb.put_item(TableName=table, Item={"k": {"S": "a"}})
        dynamodb.get_item(TableName=table, Key={"k": {"S": "a"}})
        management.post_to_connection(ConnectionId="listener-1", Data=message)
    logger.append_keys(session_id="s-2")  # outside a scope, the logger's session
    try:
        kinesis.put_record(StreamName=table, Data=b"\0" * 30_000, PartitionKey="s-2")
    finally:
        logger.remove_keys(["session_id"])

    counts = flushed(meter, capsys)
    put = counts[CallKey("f", "dynamodb", "PutItem", "s-1", "es", "final")]
    get = counts[CallKey("f", "dynamodb", "GetItem", "s-1", "es", "final")]
    assert put["AwsCalls"] == 1 and put["BilledWriteUnits"] > 0  # ReturnConsumedCapacity asked for and read
    assert get["BilledReadUnits"] > 0
    post = counts[
        CallKey("f", "apigatewaymanagementapi", "PostToConnection", "s-1", "es", "final", "MessageType=translation")
    ]
    assert post == {"AwsCalls": 1, "BilledMessageUnits": 2, "MessageBytes": len(message)}
    assert sink.messages("listener-1", "translation")
    record = counts[CallKey("f", "kinesis", "PutRecord", "s-2")]
    assert record == {"AwsCalls": 1, "BilledPayloadUnits": 2, "PayloadBytes": 30_003}


def test_translate_and_polly_units_by_language_and_engine(
    aws_endpoint: str, meter: Meter, capsys: pytest.CaptureFixture[str]
):
    translate = aws.client("translate")
    polly = aws.client("polly")
    with Stubber(translate) as translations, Stubber(polly) as speech:
        translations.add_response(
            "translate_text", {"TranslatedText": "Hola", "SourceLanguageCode": "en", "TargetLanguageCode": "es"}
        )
        audio = b"ID3"
        speech.add_response(
            "synthesize_speech", {"AudioStream": StreamingBody(io.BytesIO(audio), len(audio)), "ContentType": "x"}
        )
        with scope(session="s-1", kind="partial"):
            translate.translate_text(Text="Hello there", SourceLanguageCode="en", TargetLanguageCode="es")
        with scope(session="s-1", language="es", kind="final"):
            polly.synthesize_speech(
                Text="<speak><prosody volume='+2dB'>Hola</prosody></speak>",
                TextType="ssml",
                VoiceId="Lucia",
                Engine="neural",
                OutputFormat="mp3",
            )
    counts = flushed(meter, capsys)
    assert counts[CallKey("f", "translate", "TranslateText", "s-1", "es", "partial")] == {
        "AwsCalls": 1,
        "BilledCharacters": 11,
    }
    assert counts[CallKey("f", "polly", "SynthesizeSpeech", "s-1", "es", "final", "Engine=neural")] == {
        "AwsCalls": 1,
        "BilledCharacters": 4,
    }


def test_a_refused_call_is_counted_and_a_call_that_never_reached_aws_is_not(
    aws_endpoint: str, meter: Meter, capsys: pytest.CaptureFixture[str]
):
    from botocore.config import Config
    from botocore.exceptions import ClientError, EndpointConnectionError

    translate = aws.client("translate")
    with Stubber(translate) as stub:
        stub.add_client_error("translate_text", "ThrottlingException")
        with pytest.raises(ClientError):
            translate.translate_text(Text="Hello", SourceLanguageCode="en", TargetLanguageCode="fr")
    unreachable = aws.client("translate", endpoint_url="http://127.0.0.1:9", config=Config(retries={"max_attempts": 1}))
    with pytest.raises(EndpointConnectionError):
        unreachable.translate_text(Text="Hello", SourceLanguageCode="en", TargetLanguageCode="de")
    counts = flushed(meter, capsys)
    assert [key.language for key in counts] == ["fr"]


def test_a_stand_in_counts_what_the_service_would_bill(meter: Meter, capsys: pytest.CaptureFixture[str]):
    with scope(session="s-9", language="pt", kind="final"):
        meter.stand_in(
            "polly", "SynthesizeSpeech", {"Text": "<speak>Olá</speak>", "TextType": "ssml", "Engine": "neural"}
        )
        meter.record("transcribe", "StartStreamTranscription", {"Calls": 1, "AudioSeconds": 1.5})
        meter.record("transcribe", "StartStreamTranscription", {"Calls": 0, "AudioSeconds": 0.25})
    counts = flushed(meter, capsys)
    assert (
        counts[CallKey("f", "polly", "SynthesizeSpeech", "s-9", "pt", "final", "Engine=neural")]["BilledCharacters"]
        == 3
    )
    assert counts[CallKey("f", "transcribe", "StartStreamTranscription", "s-9", "pt", "final")] == {
        "AwsCalls": 1,
        "BilledAudioSeconds": 1.75,
    }


def test_a_long_invocation_flushes_at_its_interval(capsys: pytest.CaptureFixture[str]):
    meter = Meter(flush_interval=0.0)
    capsys.readouterr()
    meter.record("transcribe", "StartStreamTranscription", {"AudioSeconds": 0.2}, session="s-1")
    counts = meter_counts("f", capsys.readouterr().out.splitlines())
    assert counts[CallKey("f", "transcribe", "StartStreamTranscription", "s-1")]["BilledAudioSeconds"] == 0.2


def test_each_flush_hands_every_sessions_usage_to_the_sink_once(meter: Meter, capsys: pytest.CaptureFixture[str]):
    kept: list[tuple[str, SessionUsage]] = []
    meter.keep_usage(lambda session, usage: kept.append((session, usage)))
    with scope(session="s-1", language="es", kind="partial"):
        meter.stand_in("translate", "TranslateText", {"Text": "good morning", "TargetLanguageCode": "es"})
        meter.stand_in(
            "polly", "SynthesizeSpeech", {"Text": "<speak>Hola</speak>", "TextType": "ssml", "Engine": "neural"}
        )
        meter.stand_in("polly", "SynthesizeSpeech", {"Text": "Oi", "Engine": "standard"})
        meter.record("transcribe", "StartStreamTranscription", {"Calls": 1, "AudioSeconds": 2.5})
    # outside any scope, a message is counted for the session it names; a call naming none for no session
    meter.stand_in(
        "apigatewaymanagementapi", "PostToConnection", {"Data": b'{"type":"sessionStatus","sessionId":"s-2"}'}
    )
    meter.stand_in("apigatewaymanagementapi", "PostToConnection", {"Data": b'{"type":"heartbeatAck"}'})
    meter.stand_in("dynamodb", "GetItem", {}, {"ConsumedCapacity": {"CapacityUnits": 1.0}})
    flushed(meter, capsys)
    assert sorted(kept) == [
        ("s-1", SessionUsage(audio_seconds=2.5, translated_characters=12, spoken_characters=6, neural_characters=4)),
        ("s-2", SessionUsage(messages_sent=1, message_units=1)),
    ]
    kept.clear()
    flushed(meter, capsys)
    assert kept == []  # counted once


def test_a_failing_sink_never_fails_the_flush(meter: Meter, capsys: pytest.CaptureFixture[str]):
    def refuse(session: str, usage: SessionUsage) -> None:
        raise RuntimeError("throttled")

    meter.keep_usage(refuse)
    meter.record("transcribe", "StartStreamTranscription", {"AudioSeconds": 1.0}, session="s-1")
    assert (
        flushed(meter, capsys)[CallKey("f", "transcribe", "StartStreamTranscription", "s-1")]["BilledAudioSeconds"]
        == 1.0
    )
