"""The cost calculator on a scenario worked out by hand (issue #22), and the committed price file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broadcast_tools.cost import PRICES, Scenario, load_prices, main, price

#: round prices, so the hand computation below stays readable
PRICES_FOR_TEST = {
    "transcribe_streaming_second": 0.0004,
    "translate_character": 0.000015,
    "polly_neural_character": 0.000016,
    "polly_standard_character": 0.000004,
    "websocket_message": 0.000001,
    "websocket_connection_minute": 0.0000003,
    "lambda_request": 0.0000002,
    "lambda_gb_second_x86_64": 0.00001,
    "dynamodb_read_request_unit": 0.0000001,
    "dynamodb_write_request_unit": 0.000001,
    "kinesis_on_demand_stream_hour": 0.04,
    "kinesis_on_demand_ingested_gb": 0.08,
    "kinesis_on_demand_retrieved_gb": 0.04,
    "cloudwatch_logs_ingested_gb": 0.5,
}


def call(function: str, service: str, kind: str = "", **metrics: float) -> dict:
    return {"function": function, "service": service, "operation": "", "segment_kind": kind, "metrics": metrics}


def message(direction: str, role: str, kind: str, messages: int, units: int) -> dict:
    return {"direction": direction, "role": role, "kind": kind, "messages": messages, "units": units}


#: a 60 s run, 2 listeners in 2 languages, 120 words a minute
COUNTS = {
    "run": {"talkSeconds": 60, "listeners": 2, "languages": ["es", "fr"], "wordsPerMinute": 120},
    "calls": [
        call("transcription-worker", "transcribe", BilledAudioSeconds=60, AwsCalls=1),
        call("translate-segment", "translate", "final", BilledCharacters=1000),
        call("translate-segment", "translate", "final", BilledCharacters=1000),
        call("translate-segment", "translate", "partial", BilledCharacters=600),
        call("translate-segment", "polly", "final", BilledCharacters=1800),
        call("translate-segment", "dynamodb", "final", BilledWriteUnits=40, BilledReadUnits=20),
        call("join-session", "dynamodb", BilledWriteUnits=4),
        call("send-audio", "kinesis", PayloadBytes=60 * 32768),
        call("transcription-worker", "kinesis", RetrievedBytes=60 * 32768),
        call("translate-segment", "apigatewaymanagementapi", "final", BilledMessageUnits=999),  # priced by the gateway
    ],
    "messages": [
        message("in", "speaker", "sendAudio", 300, 300),
        message("out", "listener", "translation/final", 20, 40),
        message("out", "listener", "translation/partial", 60, 60),
        message("out", "listener", "audio", 4, 4),
        message("out", "listener", "sessionJoined", 2, 2),
        message("in", "listener", "heartbeat", 4, 4),
        message("out", "speaker", "transcript", 50, 50),
    ],
    "connectionSeconds": {"listener": 130, "speaker": 65},
    "lambda": {
        "transcription-worker": {"requests": 1, "gbSeconds": 60, "memoryMb": 1024},
        "translate-segment": {"requests": 40, "gbSeconds": 8, "memoryMb": 512},
        "create-session": {"requests": 1, "gbSeconds": 0.5, "memoryMb": 256},
    },
    "logBytes": {"translate-segment": 1024 * 1024},
}

# Worked by hand. Scenario: 2 h, 10 listeners, 3 languages, neural, speech on, 150 words/min.
# Drivers, run -> scenario (factor):
#   talk seconds            60 -> 7,200                          (x120)
#   text (langs*s*wpm)      2*60*120 = 14,400 -> 3*7200*150 = 3,240,000   (x225)
#   listener time           2*60 = 120 -> 10*7200 = 72,000       (x600)
#   listener text           2*60*120 = 14,400 -> 10*7200*150 = 10,800,000 (x750)
#   listeners once          2 -> 10                              (x5);  session once (x1)
TRANSCRIBE = 60 * 120 * 0.0004  # 2.88
TRANSLATE_FINALS = 2000 * 225 * 0.000015  # 6.75
TRANSLATE_PARTIALS = 600 * 225 * 0.000015  # 2.025
POLLY = 1800 * 225 * 0.000016  # 6.48
DYNAMODB = 40 * 225 * 0.000001 + 20 * 225 * 0.0000001 + 4 * 5 * 0.000001  # 0.00947
GB_MOVED = 60 * 32768 * 120 / 1024**3  # 0.2197265625 GB each way
KINESIS = GB_MOVED * 0.08 + GB_MOVED * 0.04 + 2 * 0.04  # 0.1063671875
# sendAudio 300*120, finals 40*750, partials 60*750, audio 4*750, joined 2*5, heartbeats 4*600, transcripts 50*120
MESSAGES = (36_000 + 30_000 + 45_000 + 3_000 + 10 + 2_400 + 6_000) * 0.000001  # 0.12241
CONNECTIONS = (130 * 600 + 65 * 120) / 60 * 0.0000003  # 1,300 + 130 minutes: 0.000429
LAMBDA = (120 + 40 * 225 + 1) * 0.0000002 + (60 * 120 + 8 * 225 + 0.5) * 0.00001  # 0.0918292
LOGS = 1024 * 1024 * 225 / 1024**3 * 0.5  # 0.10986328125
TOTAL = 18.57536866875
FLOOR = TRANSCRIBE + TRANSLATE_FINALS + POLLY + (30_000 + 3_000) * 0.000001 + 10 * 2 * 60 * 0.0000003  # 16.14336


def test_the_calculator_on_a_scenario_worked_by_hand():
    scenario = Scenario(hours=2, listeners=10, languages=3, voice="neural", speech=True, words_per_minute=150)
    bill = price(COUNTS, scenario, PRICES_FOR_TEST)
    assert bill.components == pytest.approx(
        {
            "Transcribe": 2.88,
            "Translate (finals)": 6.75,
            "Translate (partials)": 2.025,
            "Polly": 6.48,
            "WebSocket messages": 0.12241,
            "WebSocket connection minutes": 0.000429,
            "Lambda": 0.0918292,
            "DynamoDB": 0.00947,
            "Kinesis": 0.1063671875,
            "CloudWatch Logs": 0.10986328125,
        }
    )
    assert sum([TRANSCRIBE, TRANSLATE_FINALS, TRANSLATE_PARTIALS, POLLY, DYNAMODB, KINESIS]) + sum(
        [MESSAGES, CONNECTIONS, LAMBDA, LOGS]
    ) == pytest.approx(TOTAL)
    bill_json = bill.as_json()
    assert bill_json["totalPerTalkHour"] == pytest.approx(TOTAL / 2)
    assert bill_json["perListenerHour"] == pytest.approx(TOTAL / 20)
    assert bill_json["floorTotalPerTalkHour"] == pytest.approx(16.14336 / 2)
    assert FLOOR == pytest.approx(16.14336)
    assert bill_json["ratio"] == pytest.approx(TOTAL / 16.14336)


def test_without_speech_there_is_no_polly_and_captions_are_one_unit_each():
    scenario = Scenario(hours=2, listeners=10, languages=3, voice="standard", speech=False, words_per_minute=150)
    bill = price(COUNTS, scenario, PRICES_FOR_TEST)
    assert bill.components["Polly"] == 0
    # finals 20 messages (not 40 units) *750, partials 60*750, no audio; the rest as above
    assert bill.components["WebSocket messages"] == pytest.approx(
        (36_000 + 15_000 + 45_000 + 10 + 2_400 + 6_000) * 0.000001
    )
    assert bill.floor["WebSocket messages"] == pytest.approx(15_000 * 0.000001)


def test_the_committed_price_file_has_every_price_with_its_source_and_date():
    entries = json.loads(PRICES.read_text())["prices"]
    assert set(entries) == {*PRICES_FOR_TEST, "lambda_gb_second_arm64"}
    for entry in entries.values():
        assert entry["source"].startswith("https://aws.amazon.com/") and entry["date"] and entry["usd"] > 0
    assert load_prices() == {name: entry["usd"] for name, entry in entries.items()}


def test_the_command_prints_the_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    counts = tmp_path / "counts.json"
    counts.write_text(json.dumps(COUNTS))
    assert main([str(counts)]) == 0
    assert "ratio to the floor" in capsys.readouterr().out
    assert main([str(counts), "--json", "--listeners", "10", "--languages", "3", "--hours", "2"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["scenario"]["listeners"] == 10 and printed["ratio"] > 1
