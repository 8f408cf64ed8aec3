"""The schedules: publish-periodic-status and sweep-idle-connections."""

import threading

import boto3
import pytest
from botocore.exceptions import ClientError

from broadcast_shared.repositories.sessions import ACTIVE_TALKS_KEY
from local_runtime.management_api import RecordingSink
from session_management.handlers import publish_periodic_status, reconcile_counts, sweep_idle_connections
from tests.support.aws_faults import Fault, inject
from tests.support.events import FakeLambdaContext

SCHEDULE_EVENT = {"schedule": "test"}


def test_periodic_status_reaches_every_active_speaker(harness):
    first = harness.speaker_with_session("spk1")
    harness.speaker_with_session("spk2")
    harness.listener_in(first, "l1", "es")
    result = publish_periodic_status.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert result == {"sent": 2, "failed": 0, "samples_failed": 0}
    status = harness.last("spk1", "sessionStatus")
    assert status["updateReason"] == "periodic" and status["listenerCount"] == 1


def test_a_speaker_slow_to_answer_never_holds_back_another_sessions_periodic_status(harness, monkeypatch):
    harness.speaker_with_session("spk1")
    harness.speaker_with_session("spk2")
    # The speaker of the session the run comes to first answers only once the other has had its status.
    slow, prompt = (session.speaker_connection_id for session in harness.runtime.sessions.active())
    answered: list[str] = []
    prompt_answered = threading.Event()
    post = harness.sink.post

    def post_slowly_to_the_first(connection_id: str, data: bytes) -> bool:
        if connection_id == slow:
            prompt_answered.wait(timeout=3)  # below botocore's read timeout
        delivered = post(connection_id, data)
        answered.append(connection_id)
        if connection_id == prompt:
            prompt_answered.set()
        return delivered

    monkeypatch.setattr(harness.sink, "post", post_slowly_to_the_first)
    result = publish_periodic_status.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert result == {"sent": 2, "failed": 0, "samples_failed": 0}
    assert answered == [prompt, slow]


def test_periodic_status_ends_sessions_whose_speaker_vanished(harness, clock):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.sink.close("spk")
    publish_periodic_status.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert harness.last("l1", "speakerReconnecting")["sessionId"] == session_id
    clock.advance(60)
    sweep(harness)
    assert not harness.runtime.sessions.get(session_id).is_active
    assert harness.last("l1", "sessionEnded")["reason"] == "speakerDisconnected"


def test_sweep_closes_idle_connections_and_updates_counts(harness, clock):
    session_id = harness.speaker_with_session("spk")
    ended = harness.speaker_with_session("spk2")
    harness.listener_in(ended, "idle", "es")
    harness.listener_in(session_id, "busy", "fr")
    harness.send("spk2", {"action": "endSession"})
    clock.advance(590)
    harness.send("spk", {"action": "heartbeat"})
    harness.send("spk2", {"action": "heartbeat"})
    clock.advance(20)
    result = sweep_idle_connections.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert result["closed_idle"] == 1
    assert harness.runtime.connections.get("idle") is None
    assert harness.sink.info("idle") is None, "the idle connection was closed through the Management API"
    assert harness.runtime.sessions.get(session_id).listener_count == 1


def test_listener_who_only_listens_stays_for_the_whole_talk(harness, clock):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "quiet", "es")
    harness.connect("lurker", "listener")
    for _ in range(9):  # 90 minutes of a talk; only the speaker sends anything
        clock.advance(600)
        harness.send("spk", {"action": "heartbeat"})
        sweep_idle_connections.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert harness.runtime.connections.get("quiet") is not None
    assert harness.runtime.sessions.get(session_id).listener_count == 1
    assert harness.runtime.connections.get("lurker") is None, "a listener in no session is still swept when idle"


def test_sweep_warns_before_the_two_hour_limit_once(harness, clock):
    harness.connect("l1", "listener")
    for _ in range(12):  # stay active for 1h56m
        clock.advance(580)
        harness.send("l1", {"action": "heartbeat"})
    sweep_idle_connections.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    sweep_idle_connections.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    warnings = harness.sink.messages("l1", "connectionRefresh")
    assert len(warnings) == 1
    assert 0 < warnings[0]["secondsRemaining"] <= 300


class DisconnectingWhileWarned(RecordingSink):
    """A connection whose ``$disconnect`` runs while the sweep is warning it."""

    def __init__(self) -> None:
        super().__init__()
        self.on_refresh: list = []

    def post(self, connection_id: str, data: bytes) -> bool:
        delivered = super().post(connection_id, data)
        if delivered and b'"connectionRefresh"' in data:
            for action in self.on_refresh:
                action(connection_id)
        return delivered


def test_refresh_warning_never_recreates_a_connection_deleted_meanwhile(harness, management_api, clock):
    racing = DisconnectingWhileWarned()
    management_api.sink = harness.sink = racing
    harness.connect("l1", "listener")
    racing.on_refresh.append(lambda cid: harness.disconnect(cid))
    for _ in range(12):  # stay active for 1h56m
        clock.advance(580)
        harness.send("l1", {"action": "heartbeat"})
    result = sweep_idle_connections.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert result["refresh_warnings"] == 0, "the warned connection left during the warning"
    assert harness.runtime.connections.get("l1") is None
    assert list(harness.runtime.connections.all()) == []


def test_sweep_goes_on_past_a_malformed_connection_row(harness, clock):
    harness.connect("idle", "listener")
    table = boto3.resource("dynamodb").Table(harness.runtime.settings.connections_table)
    table.put_item(Item={"connectionId": "broken", "refreshWarned": True})
    clock.advance(610)
    result = sweep_idle_connections.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert result["closed_idle"] == 1
    assert harness.runtime.connections.get("idle") is None
    assert "Item" not in table.get_item(Key={"connectionId": "broken"}), "a row that is no connection is removed"


def test_periodic_status_goes_on_past_a_failed_post(harness):
    first = harness.speaker_with_session("spk1")
    second = harness.speaker_with_session("spk2")
    failure = inject(harness.runtime.notifier._client, Fault("PostToConnection", "InternalServerErrorException", 500))
    result = publish_periodic_status.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert failure.injected == 1
    assert result == {"sent": 1, "failed": 1, "samples_failed": 0}
    assert len(harness.sink.messages("spk1", "sessionStatus") + harness.sink.messages("spk2", "sessionStatus")) == 1
    assert harness.runtime.sessions.get(first).is_active and harness.runtime.sessions.get(second).is_active


def test_sweep_goes_on_past_a_failed_disconnect(harness, clock):
    harness.connect("idle1", "listener")
    harness.connect("idle2", "listener")
    clock.advance(610)
    failure = inject(harness.runtime.notifier._client, Fault("DeleteConnection", "LimitExceededException", 429))
    result = sweep_idle_connections.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert failure.injected == 1
    assert result["closed_idle"] == 1 and result["failed"] == 1
    assert len(list(harness.runtime.connections.all())) == 1, "the failed one stays for the next sweep"
    result = sweep_idle_connections.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert result["closed_idle"] == 1 and list(harness.runtime.connections.all()) == []


def test_reconciler_recounts_a_drifted_session_from_the_index(harness, capsys):
    drifted = harness.speaker_with_session("spk1")
    steady = harness.speaker_with_session("spk2")
    harness.listener_in(drifted, "l1", "es")
    harness.listener_in(drifted, "l2", "fr")
    harness.listener_in(steady, "l3", "es")
    table = boto3.resource("dynamodb").Table(harness.runtime.settings.sessions_table)
    table.update_item(
        Key={"sessionId": drifted},
        UpdateExpression="SET listenerCount = :n, languageCounts = :langs",
        ExpressionAttributeValues={":n": 5, ":langs": {"es": 3, "fr": 1, "de": 1}},
    )
    capsys.readouterr()
    result = reconcile_counts.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert result == {"sessions": 2, "drifted": 1, "corrected": 1, "failed": 0, "talks_corrected": False}
    session = harness.runtime.sessions.get(drifted)
    assert session.listener_count == 2 and session.language_counts == {"es": 1, "fr": 1}
    assert '"ListenerCountDrift":[3' in capsys.readouterr().out.replace(" ", "")
    assert harness.runtime.sessions.get(steady).listener_count == 1


def test_reconciler_recounts_caption_counts_and_gives_an_older_session_them(harness):
    drifted = harness.speaker_with_session("spk1")
    older = harness.speaker_with_session("spk2")
    for session_id in (drifted, older):
        harness.listener_in(session_id, f"reads-{session_id}", "es")
        harness.listener_in(session_id, f"hears-{session_id}", "fr", captions=False)
    table = boto3.resource("dynamodb").Table(harness.runtime.settings.sessions_table)
    table.update_item(
        Key={"sessionId": drifted},
        UpdateExpression="SET captionCounts = :captions",
        ExpressionAttributeValues={":captions": {"es": 0, "fr": 2}},
    )
    table.update_item(Key={"sessionId": older}, UpdateExpression="REMOVE captionCounts")
    result = reconcile_counts.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert result["drifted"] == 2 and result["corrected"] == 2
    for session_id in (drifted, older):
        assert harness.runtime.sessions.get(session_id).caption_counts == {"es": 1}


def boto3_client_of(repository):
    return repository._table.meta.client


def sweep(harness):
    return sweep_idle_connections.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())


def test_speaker_disconnect_that_fails_midway_still_ends_the_session_within_two_sweeps(harness, clock):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    inject(
        boto3_client_of(harness.runtime.sessions),
        Fault("UpdateItem", "ProvisionedThroughputExceededException", 400, when=lambda p: ":awaySince" in str(p)),
    )
    with pytest.raises(ClientError):
        harness.disconnect("spk")
    assert harness.runtime.sessions.get(session_id).is_active
    for _ in range(2):
        clock.advance(60)
        sweep(harness)
    assert not harness.runtime.sessions.get(session_id).is_active
    assert harness.last("l1", "sessionEnded")["reason"] == "speakerDisconnected"
    assert harness.runtime.connections.get("spk") is None


def test_session_end_that_misses_a_listener_is_announced_again_by_the_sweep(harness, clock):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.listener_in(session_id, "l2", "fr")
    inject(
        harness.runtime.notifier._client,
        Fault("PostToConnection", "InternalServerErrorException", 500, when=lambda p: p["ConnectionId"] == "l1"),
    )
    harness.send("spk", {"action": "endSession"})
    assert harness.sink.messages("l1", "sessionEnded") == []
    clock.advance(60)
    sweep(harness)
    assert harness.last("l1", "sessionEnded")["sessionId"] == session_id
    assert harness.last("l1", "sessionEnded")["reason"] == "speakerEnded"
    clock.advance(60)
    sweep(harness)
    assert len(harness.sink.messages("l1", "sessionEnded")) == 1, "announced until delivered, then no more"


def test_an_active_session_expires_unless_its_speaker_is_heard_from(harness, clock):
    session_id = harness.speaker_with_session("spk")
    table = boto3.resource("dynamodb").Table(harness.runtime.settings.sessions_table)
    created = table.get_item(Key={"sessionId": session_id})["Item"]["expiresAt"]
    assert created <= clock.now() + harness.runtime.settings.record_ttl_seconds
    clock.advance(3600)
    publish_periodic_status.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert table.get_item(Key={"sessionId": session_id})["Item"]["expiresAt"] == created + 3600


def test_reconciler_corrects_the_active_talks_counter_from_the_active_sessions(harness, capsys):
    harness.speaker_with_session("spk1")
    harness.speaker_with_session("spk2")
    table = boto3.resource("dynamodb").Table(harness.runtime.settings.sessions_table)
    table.put_item(Item={"sessionId": ACTIVE_TALKS_KEY, "activeTalks": 7})  # e.g. a session TTL removed while active
    capsys.readouterr()
    result = reconcile_counts.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    assert result["sessions"] == 2 and result["talks_corrected"] is True
    assert harness.runtime.sessions.active_talks() == 2
    assert '"ActiveTalksDrift":[5' in capsys.readouterr().out.replace(" ", "")


def test_reconciler_leaves_a_counter_that_moved_while_it_counted(harness):
    harness.speaker_with_session("spk1")
    assert harness.runtime.sessions.correct_active_talks(seen=3, count=1) is False
    assert harness.runtime.sessions.active_talks() == 1


def test_periodic_status_measures_the_load_against_the_capacity(harness, capsys):
    # default plan: 8 talks, 8 neural speech calls/s; two talks with es+fr and es listened to: 3 languages
    first = harness.speaker_with_session("spk1")
    second = harness.speaker_with_session("spk2")
    harness.listener_in(first, "l1", "es")
    harness.listener_in(first, "l2", "fr")
    harness.listener_in(second, "l3", "es")
    capsys.readouterr()
    publish_periodic_status.handler.using(harness.runtime)(SCHEDULE_EVENT, FakeLambdaContext())
    out = capsys.readouterr().out.replace(" ", "")
    assert '"ActiveTalks":[2.0]' in out or '"ActiveTalks":[2]' in out
    assert '"ListenedLanguages":[3' in out
    assert '"EstimatedSpeechCallsPerSecond":[0.55' in out  # 11 finals/min x 3 / 60
    assert '"CapacityUsedPercent":[25' in out  # 2 of 8 talks (the speech calls are 6.9 % of 8/s)
