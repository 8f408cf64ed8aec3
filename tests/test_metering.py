"""The local collector of a run's billable counts: messages by role and kind in 32 KB units, connection
time, and the cost meter's EMF lines from the function logs written during the run."""

from __future__ import annotations

import json
from pathlib import Path

from local_runtime.metering import GatewayUsage, LogWindow, RunUsage, message_kind, run_counts


def test_messages_are_counted_in_32_kb_units_by_direction_role_and_kind():
    usage = GatewayUsage()
    usage.message("in", "speaker", json.dumps({"action": "sendAudio", "audio": "A" * 40_000}))
    usage.message("out", "listener", json.dumps({"type": "translation", "isPartial": False, "text": "hola"}).encode())
    usage.message("out", "listener", json.dumps({"type": "translation", "isPartial": False, "text": "adiós"}).encode())
    usage.message("out", "listener", b"\xff\xfe")
    usage.connection_closed("listener", 61.5)
    assert usage.messages[("in", "speaker", "sendAudio")]["units"] == 2
    assert usage.messages[("out", "listener", "translation/final")]["messages"] == 2
    assert usage.messages[("out", "listener", "translation/final")]["units"] == 2
    assert usage.messages[("out", "listener", "binary")]["units"] == 1
    assert usage.connection_seconds["listener"] == 61.5


def test_message_kinds():
    assert message_kind('{"message": "Forbidden", "connectionId": "x"}') == "gatewayError"
    assert message_kind('{"type": "translation", "isPartial": true}') == "translation/partial"
    assert message_kind("not json") == "other"
    assert message_kind("[1]") == "other"


def test_a_runs_counts_come_from_the_logs_written_during_it(tmp_path: Path):
    log = tmp_path / "speech-broadcast-local-translate-segment.log"
    blob = {
        "_aws": {
            "Timestamp": 0,
            "CloudWatchMetrics": [
                {
                    "Namespace": "SpeechBroadcast",
                    "Dimensions": [["AwsService", "Operation", "Language", "SegmentKind", "service"]],
                    "Metrics": [{"Name": "AwsCalls", "Unit": "Count"}, {"Name": "BilledCharacters", "Unit": "Count"}],
                }
            ],
        },
        "AwsService": "translate",
        "Operation": "TranslateText",
        "Language": "es",
        "SegmentKind": "final",
        "service": "translation-pipeline",
        "AwsCalls": 1,
        "BilledCharacters": 42,
    }
    log.write_text(json.dumps({**blob, "BilledCharacters": 1000}) + "\n")  # an earlier run's
    window = LogWindow(tmp_path)
    with log.open("a") as out:
        out.write(json.dumps(blob) + "\n" + '{"level": "INFO", "message": "final delivered"}\n')
        out.write(json.dumps(blob) + "\n")
    usage = RunUsage()
    usage.invocations.invoked("speech-broadcast-local-translate-segment", 1024, 0.0101)
    counts = run_counts(usage, window.read(), "speech-broadcast-local-")
    assert counts["calls"] == [
        {
            "function": "translate-segment",
            "service": "translate",
            "operation": "TranslateText",
            "session": "",
            "language": "es",
            "segment_kind": "final",
            "detail": "",
            "metrics": {"AwsCalls": 2, "BilledCharacters": 84},
        }
    ]
    assert counts["lambda"] == {"translate-segment": {"requests": 1, "gbSeconds": 0.011, "memoryMb": 1024}}
    assert counts["logBytes"]["translate-segment"] > 0
