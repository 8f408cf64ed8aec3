import boto3
from hypothesis import given
from hypothesis import strategies as st

from broadcast_shared.pricing import SessionUsage
from session_management.status import language_distribution


def test_status_reports_listeners_languages_duration_and_state(harness, clock):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.listener_in(session_id, "l2", "fr")
    harness.send("spk", {"action": "muteBroadcast"})
    clock.advance(90)
    harness.send("spk", {"action": "getSessionStatus"})
    status = harness.last("spk", "sessionStatus")
    assert status == {
        "type": "sessionStatus",
        "sessionId": session_id,
        "listenerCount": 2,
        "languageDistribution": {"es": 1, "fr": 1},
        "sessionDuration": 90,
        "broadcastState": {"isPaused": False, "isMuted": True, "volume": 1.0},
        "timestamp": clock.now(),
        "updateReason": "requested",
        "usage": status["usage"],
        "estimatedCostUsd": status["estimatedCostUsd"],
    }


def test_status_prices_the_sessions_usage_kept_by_the_cost_meter(harness, settings):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.send("spk", {"action": "getSessionStatus"})
    # Messages so far, counted by the meter at the end of each invocation: sessionCreated, sessionJoined,
    # listenerCountChanged and the newLanguage status (this one is counted when its invocation ends).
    first = harness.last("spk", "sessionStatus")
    assert first["usage"] == {"audioSeconds": 0, "translatedCharacters": 0, "spokenCharacters": 0, "messagesSent": 4}

    work = SessionUsage(
        audio_seconds=600, translated_characters=10_000, spoken_characters=9_000, neural_characters=8_000
    )
    harness.runtime.sessions.add_usage(session_id, work)
    harness.send("spk", {"action": "getSessionStatus"})
    status = harness.last("spk", "sessionStatus")
    assert status["usage"] == {
        "audioSeconds": 600,
        "translatedCharacters": 10_000,
        "spokenCharacters": 9_000,
        "messagesSent": 5,  # and the answer to the first getSessionStatus
    }
    prices = settings.prices
    by_hand = (
        600 * prices["transcribe_streaming_second"]
        + 10_000 * prices["translate_character"]
        + 8_000 * prices["polly_neural_character"]
        + 1_000 * prices["polly_standard_character"]
        + 5 * prices["websocket_message"]
    )
    assert status["estimatedCostUsd"] == round(by_hand, 4) == 0.522  # at the committed eu-west-1 prices


def test_status_counts_the_audio_the_worker_claimed_before_its_meter_adds_it(harness, settings):
    """The worker's meter adds its audio at least once a minute; its checkpoint moves at every chunk it claims."""
    session_id = harness.speaker_with_session("spk")
    harness.runtime.sessions.add_usage(session_id, SessionUsage(audio_seconds=5))
    boto3.resource("dynamodb").Table(settings.sessions_table).update_item(
        Key={"sessionId": session_id}, UpdateExpression="SET audioHeard = :a", ExpressionAttributeValues={":a": 45}
    )
    harness.send("spk", {"action": "getSessionStatus"})
    status = harness.last("spk", "sessionStatus")
    assert status["usage"]["audioSeconds"] == 45
    assert status["estimatedCostUsd"] >= round(45 * settings.prices["transcribe_streaming_second"], 4) > 0
    # Once the meter has added more than the checkpoint (a stream re-opened sends audio again), the meter's figure.
    harness.runtime.sessions.add_usage(session_id, SessionUsage(audio_seconds=50))
    harness.send("spk", {"action": "getSessionStatus"})
    assert harness.last("spk", "sessionStatus")["usage"]["audioSeconds"] == 55


def test_listener_cannot_ask_for_status(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.send("l1", {"action": "getSessionStatus"})
    assert harness.last("l1", "error")["code"] == "FORBIDDEN"


def test_status_without_session_is_refused(harness):
    harness.connect("spk", "speaker")
    harness.send("spk", {"action": "getSessionStatus"})
    assert harness.last("spk", "error")["code"] == "NOT_IN_SESSION"


def test_missing_language_is_counted_as_unknown():
    assert language_distribution({"": 2, "es": 1, "fr": 0}) == {"es": 1, "unknown": 2}


@given(st.dictionaries(st.sampled_from(["", " ", "es", "fr", "de"]), st.integers(-3, 50)))
def test_distribution_sums_to_the_positive_counts(counts):
    distribution = language_distribution(counts)
    assert sum(distribution.values()) == sum(v for v in counts.values() if v > 0)
    assert all(v > 0 for v in distribution.values())
