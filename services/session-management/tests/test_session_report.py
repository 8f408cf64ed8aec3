"""The report after the talk: the audience sampled minute by minute, and the report the speaker gets at the end."""

import json
from decimal import Decimal

import boto3

from broadcast_shared.messages.outbound import AudienceSample, EndReason, SessionReport, Usage
from broadcast_tools.artifacts import ROOT
from session_management.handlers import publish_periodic_status
from session_management.reports import REPORT_BYTES, ReportService, fitted
from tests.support.aws_faults import Fault, inject
from tests.support.events import FakeLambdaContext

PRICES = json.loads((ROOT / "infrastructure" / "pricing" / "eu-west-1.json").read_text())["prices"]


def listeners(harness, session_id, **languages):
    """Joins ``n`` listeners per language, named ``<language><i>``."""
    for language, count in languages.items():
        for i in range(count):
            harness.listener_in(session_id, f"{language}{i}", language)


def periodic(harness):
    publish_periodic_status.handler.using(harness.runtime)({"schedule": "test"}, FakeLambdaContext())


def test_speaker_gets_the_report_after_ending_with_peak_languages_and_duration(harness, clock):
    session_id = harness.speaker_with_session("spk")
    listeners(harness, session_id, es=2, fr=1)
    clock.advance(42)
    harness.send("spk", {"action": "endSession"})
    report = harness.last("spk", "sessionReport")
    assert report["sessionId"] == session_id and report["sourceLanguage"] == "en"
    assert report["durationSeconds"] == 42 and report["endedAt"] - report["startedAt"] == 42
    assert report["peakListeners"] == 3
    assert report["peakListenersByLanguage"] == {"es": 2, "fr": 1}
    assert [(s["minute"], s["listeners"], s["languages"]) for s in report["listenersOverTime"]] == [
        (0, 3, {"es": 2, "fr": 1})
    ]
    assert report["audioSeconds"] == 0
    # No audio yet: nothing recognised, translated or spoken; the messages are those the meter counted until the end
    # (the end's own messages and the report are counted after it).
    usage = report["usage"]
    assert (usage["audioSeconds"], usage["translatedCharacters"], usage["spokenCharacters"]) == (0, 0, 0)
    assert 0 < usage["messagesSent"] < harness.runtime.sessions.get(session_id).usage.messages_sent
    # The speaker heard the end first; listeners get no report.
    types = [m["type"] for m in harness.sink.messages("spk")]
    assert types.index("sessionEnded") < types.index("sessionReport")
    for listener in ("es0", "es1", "fr0"):
        assert harness.sink.messages(listener, "sessionReport") == []


def test_report_is_kept_beside_the_transcripts_for_their_retention(harness, clock):
    session_id = harness.speaker_with_session("spk")
    listeners(harness, session_id, de=1)
    harness.send("spk", {"action": "endSession"})
    sent = harness.last("spk", "sessionReport")
    kept = harness.runtime.reports.report(session_id)
    assert kept == sent
    item = harness.runtime.reports._table.get_item(
        Key={"sessionLanguage": f"{session_id}#report", "position": "report"}
    )["Item"]
    assert item["expiresAt"] == int(clock.now()) + harness.runtime.settings.transcript_retention_seconds


def test_audience_is_sampled_once_a_minute_keeping_the_minutes_largest(harness, clock):
    session_id = harness.speaker_with_session("spk")
    listeners(harness, session_id, es=2, fr=1)  # minute 0: 3
    harness.disconnect("es1")  # leaves do not lower minute 0
    clock.advance(60)
    periodic(harness)  # minute 1: es 1, fr 1
    clock.advance(60)
    harness.send("fr0", {"action": "changeLanguage", "targetLanguage": "es"})  # minute 2: es 2
    listeners(harness, session_id, pt=1)  # minute 2: es 2, pt 1
    periodic(harness)  # the same audience: nothing lower or new is written
    clock.advance(61)
    harness.send("spk", {"action": "endSession"})  # minute 3, at the end: es 2, pt 1
    report = harness.last("spk", "sessionReport")
    assert [(s["minute"], s["languages"]) for s in report["listenersOverTime"]] == [
        (0, {"es": 2, "fr": 1}),
        (1, {"es": 1, "fr": 1}),
        (2, {"es": 2, "pt": 1}),
        (3, {"es": 2, "pt": 1}),
    ]
    assert [s["at"] for s in report["listenersOverTime"]] == [0, 60, 120, 181]
    assert report["peakListeners"] == 3
    assert report["peakListenersByLanguage"] == {"es": 2, "fr": 1, "pt": 1}
    assert report["durationSeconds"] == 181


def test_many_joins_in_a_minute_make_one_sample(harness):
    session_id = harness.speaker_with_session("spk")
    listeners(harness, session_id, es=6)
    samples = harness.runtime.reports.samples(session_id)
    assert [(s.minute, s.listeners) for s in samples] == [(0, 6)]
    # A sample that would not raise the minute's figure writes nothing.
    session = harness.runtime.sessions.get(session_id)
    assert not ReportService(harness.runtime).sample(session)


def test_usage_counted_on_the_session_item_is_reported_and_priced_as_the_live_status_is(harness):
    session_id = harness.speaker_with_session("spk")
    listeners(harness, session_id, es=1)
    # As the cost meter's flushes add them to the session item (broadcast_shared.pricing.USAGE_ATTRIBUTES).
    boto3.resource("dynamodb").Table(harness.runtime.settings.sessions_table).update_item(
        Key={"sessionId": session_id},
        UpdateExpression="ADD usageAudioSeconds :audio, usageSpokenCharacters :spoken, "
        "usageNeuralCharacters :spoken, usageMessagesSent :sent, usageMessageUnits :sent SET audioOffset = :audio",
        ExpressionAttributeValues={":audio": 61, ":spoken": 900, ":sent": 40},
    )
    ended = harness.runtime.departures.end_session(session_id, EndReason.SPEAKER_ENDED, "spk")
    report = ReportService(harness.runtime).build(ended).to_wire()
    assert report["audioSeconds"] == 61
    # The 40 messages added by hand, and the ones the meter counted while the listener joined.
    sent = report["usage"]["messagesSent"]
    assert report["usage"] == {
        "audioSeconds": 61,
        "translatedCharacters": 0,
        "spokenCharacters": 900,
        "messagesSent": sent,
    }
    assert sent > 40
    by_hand = (
        61 * PRICES["transcribe_streaming_second"]["usd"]
        + 900 * PRICES["polly_neural_character"]["usd"]
        + sent * PRICES["websocket_message"]["usd"]
    )
    assert report["estimatedCostUsd"] == round(by_hand, 4)


def test_audio_the_worker_claimed_but_its_meter_has_not_added_yet_is_reported_and_priced(harness):
    """A talk ended before the worker's meter flushed (it adds its usage at least once a minute): the audio of its
    checkpoint is what Transcribe was sent."""
    session_id = harness.speaker_with_session("spk")
    boto3.resource("dynamodb").Table(harness.runtime.settings.sessions_table).update_item(
        Key={"sessionId": session_id},
        UpdateExpression="ADD usageAudioSeconds :metered SET audioOffset = :claimed, audioHeard = :claimed",
        ExpressionAttributeValues={":metered": 5, ":claimed": Decimal("20.3")},
    )
    ended = harness.runtime.departures.end_session(session_id, EndReason.SPEAKER_ENDED, "spk")
    report = ReportService(harness.runtime).build(ended).to_wire()
    assert report["audioSeconds"] == report["usage"]["audioSeconds"] == 20.3
    transcription = 20.3 * PRICES["transcribe_streaming_second"]["usd"]
    assert report["estimatedCostUsd"] >= round(transcription, 4) > 0


def test_a_long_talks_report_fits_one_message_and_keeps_its_peak_sample():
    languages = ["ar", "de", "es", "fr", "hi", "it", "ja", "ko", "nl", "pl", "pt", "ru", "sv", "tr", "zh"]
    samples = []
    for minute in range(1500):  # 25 hours, 15 languages a minute
        counts = {language: 100 + minute % 7 for language in languages}
        if minute == 777:
            counts["es"] = 4000
        samples.append(AudienceSample(minute=minute, at=minute * 60, listeners=sum(counts.values()), languages=counts))
    report = SessionReport(
        session_id="golden-eagle-misty-otter-4271",
        source_language="en",
        started_at=0,
        ended_at=90_000,
        duration_seconds=90_000,
        audio_seconds=90_000,
        peak_listeners=5400,
        peak_listeners_by_language={"es": 4000},
        listeners_over_time=samples,
        usage=Usage(audio_seconds=90_000, translated_characters=0, spoken_characters=0, messages_sent=0),
        estimated_cost_usd=36.0,
    )
    assert len(json.dumps(report.to_wire())) > REPORT_BYTES
    fitted_report = fitted(report)
    assert len(json.dumps(fitted_report.to_wire())) <= REPORT_BYTES
    kept = fitted_report.listeners_over_time
    assert 1 < len(kept) < 1500 and [s.minute for s in kept] == sorted(s.minute for s in kept)
    assert max(kept, key=lambda s: s.listeners).languages["es"] == 4000


def test_a_report_that_fails_leaves_the_end_standing(harness):
    session_id = harness.speaker_with_session("spk")
    listeners(harness, session_id, es=1)
    failure = inject(
        harness.runtime.reports._table.meta.client,
        Fault("Query", "ProvisionedThroughputExceededException", 400, when=lambda p: "#audience" in str(p)),
    )
    harness.send("spk", {"action": "endSession"})
    assert failure.injected == 1
    assert harness.last("spk", "sessionEnded")["sessionId"] == session_id
    assert harness.sink.messages("spk", "sessionReport") == [] and harness.sink.messages("spk", "error") == []
    assert not harness.runtime.sessions.get(session_id).is_active


def test_a_sample_that_fails_leaves_the_join_standing(harness):
    session_id = harness.speaker_with_session("spk")
    inject(
        harness.runtime.reports._table.meta.client,
        Fault(
            "UpdateItem",
            "ProvisionedThroughputExceededException",
            400,
            when=lambda p: p["TableName"].endswith("-transcripts"),
        ),
    )
    harness.listener_in(session_id, "es0", "es")
    assert harness.runtime.sessions.get(session_id).listener_count == 1
    assert harness.sink.messages("es0", "error") == []
