import re

import boto3
import pytest

from broadcast_shared.capacity import CapacityPlan
from broadcast_shared.repositories.sessions import CapacityReached
from session_management.app import SessionRuntime
from session_management.handlers import sweep_idle_connections
from tests.support.events import FakeLambdaContext
from tests.support.harness import Harness
from tests.support.ports import free_port
from tests.support.tables import fresh_settings


def test_speaker_creates_session_with_readable_id(harness):
    session_id = harness.speaker_with_session("spk")
    assert re.fullmatch(r"[a-z]+-[a-z]+-[a-z]+-[a-z]+-[0-9]{4}", session_id)
    created = harness.last("spk", "sessionCreated")
    assert created["sourceLanguage"] == "en"
    assert created["qualityTier"] == "standard"
    assert created["broadcastState"] == {"isPaused": False, "isMuted": False, "volume": 1.0}
    stored = harness.runtime.sessions.get(session_id)
    assert stored.speaker_connection_id == "spk" and stored.is_active


def test_session_ids_are_drawn_from_at_least_a_hundred_billion():
    from session_management import session_ids

    space = len(session_ids.ADJECTIVES) ** 2 * len(session_ids.ANIMALS) ** 2 * 9000
    assert space >= 10**11
    assert len({session_ids.new_session_id() for _ in range(2000)}) == 2000


def test_premium_quality_tier_is_refused_because_it_would_change_nothing(harness):
    harness.connect("spk", "speaker")
    harness.send("spk", {"action": "createSession", "sourceLanguage": "de", "qualityTier": "premium"})
    assert harness.last("spk", "error")["code"] == "INVALID_MESSAGE"
    harness.send("spk", {"action": "createSession", "sourceLanguage": "de", "qualityTier": "standard"})
    assert harness.last("spk", "sessionCreated")["qualityTier"] == "standard"


def test_a_terminology_not_on_the_deployments_list_is_refused(harness):
    harness.connect("spk", "speaker", user_id="user-1")
    harness.send("spk", {"action": "createSession", "sourceLanguage": "en", "terminology": "rival-secret-glossary"})
    error = harness.last("spk", "error")
    assert error["code"] == "INVALID_MESSAGE" and error["details"]["problems"][0]["field"] == "terminology"
    assert not harness.sink.messages("spk", "sessionCreated")


def test_listener_cannot_create_session(harness):
    harness.connect("lis", "listener")
    harness.send("lis", {"action": "createSession", "sourceLanguage": "en"})
    error = harness.last("lis", "error")
    assert error["code"] == "FORBIDDEN"
    assert error["action"] == "createSession"


def test_speaker_cannot_hold_two_active_sessions(harness):
    first = harness.speaker_with_session("spk")
    harness.send("spk", {"action": "createSession", "sourceLanguage": "en"})
    error = harness.last("spk", "error")
    assert error["code"] == "ALREADY_IN_SESSION"
    assert error["details"]["sessionId"] == first


def test_speaker_can_create_a_new_session_after_ending_one(harness):
    first = harness.speaker_with_session("spk")
    harness.send("spk", {"action": "endSession"})
    harness.send("spk", {"action": "createSession", "sourceLanguage": "en"})
    second = harness.last("spk", "sessionCreated")["sessionId"]
    assert second != first


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "createSession"}, "INVALID_MESSAGE"),
        ({"action": "createSession", "sourceLanguage": "xx"}, "UNSUPPORTED_LANGUAGE"),
        ({"action": "createSession", "sourceLanguage": "en", "qualityTier": "gold"}, "INVALID_MESSAGE"),
        ({"action": "createSession", "sourceLanguage": "en", "extra": 1}, "INVALID_MESSAGE"),
        ({"action": "createSession", "sourceLanguage": 7}, "INVALID_MESSAGE"),
    ],
)
def test_bad_create_is_rejected_and_stores_nothing(harness, body, code):
    harness.connect("spk", "speaker")
    harness.send("spk", body, route_key="createSession")
    error = harness.last("spk", "error")
    assert error["code"] == code
    assert "Traceback" not in error["message"]
    assert harness.runtime.connections.get("spk").session_id is None


def test_session_id_collision_draws_another_id(harness, monkeypatch):
    """A taken id is retried with a fresh one (conditional write)."""
    from session_management import sessions

    taken = harness.speaker_with_session("spk1")
    ids = iter([taken, "quiet-otter-123"])
    monkeypatch.setattr(sessions, "new_session_id", lambda: next(ids))
    harness.connect("spk2", "speaker")
    harness.send("spk2", {"action": "createSession", "sourceLanguage": "en"})
    assert harness.last("spk2", "sessionCreated")["sessionId"] == "quiet-otter-123"
    assert harness.runtime.sessions.get(taken).speaker_connection_id == "spk1"


def test_a_session_may_name_a_custom_terminology_for_its_translations(harness, runtime):
    harness.connect("spk", "speaker", user_id="user-1")
    harness.send("spk", {"action": "createSession", "sourceLanguage": "en", "terminology": "acme-product-names"})
    created = harness.last("spk", "sessionCreated")
    assert created["terminology"] == "acme-product-names"
    assert runtime.sessions.get(created["sessionId"]).terminology == "acme-product-names"


def test_a_terminology_name_translate_would_refuse_is_refused_here(harness):
    harness.connect("spk", "speaker", user_id="user-1")
    harness.send("spk", {"action": "createSession", "sourceLanguage": "en", "terminology": "no spaces/or slashes"})
    assert harness.last("spk", "error")["code"] == "INVALID_MESSAGE"


def test_one_speaker_may_create_a_bounded_number_of_sessions_per_hour(harness):
    allowed = harness.runtime.settings.max_sessions_per_user_per_hour
    for n in range(allowed):
        harness.connect(f"spk{n}", "speaker", user_id="mallory")
        harness.send(f"spk{n}", {"action": "createSession", "sourceLanguage": "en"})
        harness.last(f"spk{n}", "sessionCreated")
        harness.send(f"spk{n}", {"action": "endSession"})  # creations count, not talks at once (capacity's own)
    harness.connect("spk-extra", "speaker", user_id="mallory")
    harness.send("spk-extra", {"action": "createSession", "sourceLanguage": "en"})
    refused = harness.last("spk-extra", "error")
    assert refused["code"] == "RATE_LIMITED" and refused["details"]["limitPerWindow"] == allowed
    harness.connect("other", "speaker", user_id="alice")  # another speaker is not affected
    harness.send("other", {"action": "createSession", "sourceLanguage": "en"})
    harness.last("other", "sessionCreated")


def test_creating_a_session_warms_the_functions_its_audio_passes_through(warming_harness, invoke_api):
    warming_harness.speaker_with_session("spk", source_language="es")
    warm_up = {"type": "warmUp", "sourceLanguage": "es"}
    assert sorted(invoke_api.invokes) == [  # as many environments of each as it wants (platform.json warm_ups)
        ("send-audio", warm_up, True),
        ("send-audio", warm_up, True),
        ("transcription-worker", warm_up, True),
    ]


def test_a_session_is_created_and_answered_when_its_warm_ups_cannot_be_sent(warming_harness, monkeypatch):
    # Nothing serves the Invoke API at this address: the warm-ups fail, the speaker is not told.
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"http://127.0.0.1:{free_port()}")
    session_id = warming_harness.speaker_with_session("spk")
    assert warming_harness.runtime.sessions.get(session_id).is_active
    assert [m["type"] for m in warming_harness.sink.messages("spk")] == ["sessionCreated"]


# --- capacity (docs/CAPACITY.md) ----------------------------------------------------------------------------------


@pytest.fixture
def two_talks(aws_endpoint, management_api, clock, sink):
    """A deployment whose capacity is two talks at once (its measured throughput)."""
    settings = fresh_settings(boto3.client("dynamodb", region_name="eu-west-1"), management_api.endpoint)
    return Harness(SessionRuntime.build_session(settings, clock, CapacityPlan(throughput_talks=2)), sink)


def create(harness, connection_id, user_id="user-1"):
    harness.connect(connection_id, "speaker", user_id=user_id)
    harness.send(connection_id, {"action": "createSession", "sourceLanguage": "en"})
    return harness.last(connection_id)


def test_a_talk_beyond_the_capacity_is_refused_up_front_and_the_admitted_ones_go_on(two_talks):
    first, second = create(two_talks, "spk1")["sessionId"], create(two_talks, "spk2", "user-2")["sessionId"]
    refused = create(two_talks, "spk3", "user-3")
    assert refused["type"] == "error" and refused["code"] == "CAPACITY_REACHED"
    assert refused["details"] == {"maxConcurrentTalks": 2}
    assert refused["message"] == "This deployment is carrying its maximum of 2 talks; try again when one ends"
    assert two_talks.runtime.sessions.get(first).is_active and two_talks.runtime.sessions.get(second).is_active
    two_talks.listener_in(first, "l1", "es")  # the admitted talks are unaffected
    two_talks.send("spk2", {"action": "pauseBroadcast"})
    assert two_talks.last("spk2", "broadcastStateChanged")["broadcastState"]["isPaused"] is True
    assert two_talks.runtime.sessions.active_talks() == 2


def test_a_talk_that_ends_makes_room_for_a_new_one(two_talks):
    create(two_talks, "spk1")
    create(two_talks, "spk2", "user-2")
    two_talks.send("spk1", {"action": "endSession"})
    assert create(two_talks, "spk3", "user-3")["type"] == "sessionCreated"
    assert create(two_talks, "spk4", "user-4")["code"] == "CAPACITY_REACHED"


def test_a_refused_talk_does_not_spend_the_speakers_hourly_allowance(two_talks):
    create(two_talks, "spk1")
    create(two_talks, "spk2", "user-2")
    allowed = two_talks.runtime.settings.max_sessions_per_user_per_hour
    for n in range(allowed + 2):
        assert create(two_talks, f"again{n}", "user-3")["code"] == "CAPACITY_REACHED"
    two_talks.send("spk1", {"action": "endSession"})
    assert create(two_talks, "finally", "user-3")["type"] == "sessionCreated"


def test_a_speaker_who_resumes_at_full_capacity_keeps_the_talk_and_counts_once(two_talks):
    session_id = create(two_talks, "spk1")["sessionId"]
    create(two_talks, "spk2", "user-2")
    two_talks.disconnect("spk1")  # waits for the speaker (grace period)
    two_talks.connect("spk1-again", "speaker", user_id="user-1")
    two_talks.send("spk1-again", {"action": "createSession", "sourceLanguage": "en", "sessionId": session_id})
    assert two_talks.last("spk1-again")["type"] == "sessionCreated"
    assert two_talks.runtime.sessions.active_talks() == 2


def test_every_way_a_session_ends_gives_its_place_back(two_talks, clock):
    # speaker disconnects without a grace period (no sub): ends at once
    two_talks.connect("anon", "speaker")
    two_talks.send("anon", {"action": "createSession", "sourceLanguage": "en"})
    two_talks.disconnect("anon")
    assert two_talks.runtime.sessions.active_talks() == 0
    # the speaker does not come back within the grace period: the sweep ends it
    create(two_talks, "spk1")
    two_talks.disconnect("spk1")
    assert two_talks.runtime.sessions.active_talks() == 1
    clock.advance(61)
    sweep_idle_connections.handler.using(two_talks.runtime)({}, FakeLambdaContext())
    assert two_talks.runtime.sessions.active_talks() == 0
    # an idle speaker connection is closed by the sweep; its session ends when the grace period has passed
    create(two_talks, "idle", "user-2")
    clock.advance(two_talks.runtime.settings.idle_timeout_seconds + 1)
    sweep_idle_connections.handler.using(two_talks.runtime)({}, FakeLambdaContext())
    assert two_talks.runtime.sessions.active_talks() == 1
    clock.advance(61)
    sweep_idle_connections.handler.using(two_talks.runtime)({}, FakeLambdaContext())
    assert two_talks.runtime.sessions.active_talks() == 0
    assert create(two_talks, "a", "user-3")["type"] == create(two_talks, "b", "user-4")["type"] == "sessionCreated"


def test_the_creates_own_condition_refuses_a_place_taken_after_the_counter_was_read(two_talks):
    # Two speakers both read one free place (the up-front check); the first create's transaction takes it, and the
    # second's condition on the counter refuses it: the race is decided by DynamoDB, not by the read. (Against moto
    # this is shown in sequence: its TransactWriteItems is not atomic between concurrent requests, DynamoDB's is.)
    sessions = two_talks.runtime.sessions
    create(two_talks, "spk1")
    assert sessions.active_talks() == 1  # both speakers see room for one more
    for n, speaker in enumerate(("spk2", "spk3"), start=2):
        two_talks.connect(speaker, "speaker", user_id=f"user-{n}")
    sessions.create("golden-eagle-misty-otter-1001", "spk2", None, "en", "standard", 0.0, max_active_talks=2)
    with pytest.raises(CapacityReached):
        sessions.create("golden-eagle-misty-otter-1002", "spk3", None, "en", "standard", 0.0, max_active_talks=2)
    assert sessions.get("golden-eagle-misty-otter-1002") is None
    assert two_talks.runtime.connections.get("spk3").session_id is None  # nothing of the refused create was written
    assert sum(1 for _ in sessions.active()) == sessions.active_talks() == 2
