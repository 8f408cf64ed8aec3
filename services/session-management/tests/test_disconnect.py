import pytest
from botocore.exceptions import ClientError

from broadcast_shared.repositories.sessions import TRANSACTION_ATTEMPTS
from session_management.handlers import sweep_idle_connections
from tests.support.aws_faults import inject, transaction_conflict
from tests.support.events import FakeLambdaContext


def test_listener_leaving_updates_counts_and_speaker(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.listener_in(session_id, "l2", "es")
    harness.disconnect("l1")
    assert harness.runtime.connections.get("l1") is None
    session = harness.runtime.sessions.get(session_id)
    assert session.listener_count == 1 and session.language_counts["es"] == 1
    assert harness.last("spk", "listenerCountChanged")["listenerCount"] == 1


def test_speaker_leaving_ends_session_for_every_listener_after_the_grace_period(harness, clock):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.listener_in(session_id, "l2", "fr")
    harness.disconnect("spk")
    for listener in ("l1", "l2"):
        assert harness.last(listener, "speakerReconnecting")["graceSeconds"] == 60
    clock.advance(60)
    sweep_idle_connections.handler.using(harness.runtime)({}, FakeLambdaContext())
    for listener in ("l1", "l2"):
        ended = harness.last(listener, "sessionEnded")
        assert ended["reason"] == "speakerDisconnected"
    assert not harness.runtime.sessions.get(session_id).is_active
    assert harness.runtime.connections.get("spk") is None


def test_disconnect_twice_changes_counts_once(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.disconnect("l1")
    harness.disconnect("l1")
    assert harness.runtime.sessions.get(session_id).listener_count == 0


def test_unknown_connection_disconnect_is_harmless(harness):
    assert harness.disconnect("never-seen")["statusCode"] == 200


def test_leave_that_meets_a_transaction_conflict_still_takes_the_listener_off_the_counts(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.listener_in(session_id, "l2", "es")
    conflict = inject(harness.runtime.sessions._client, transaction_conflict(2))
    harness.disconnect("l1")
    assert conflict.injected == 1
    assert harness.runtime.connections.get("l1") is None
    session = harness.runtime.sessions.get(session_id)
    assert session.listener_count == 1 and session.language_counts["es"] == 1


def test_leave_that_keeps_conflicting_keeps_the_listener_until_a_delivery_finds_it_gone(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    inject(harness.runtime.sessions._client, transaction_conflict(2, times=TRANSACTION_ATTEMPTS))
    with pytest.raises(ClientError, match="TransactionCanceled"):
        harness.disconnect("l1")
    assert harness.runtime.connections.get("l1") is not None, "never deleted without its count"
    assert harness.runtime.sessions.get(session_id).listener_count == 1
    harness.send("spk", {"action": "pauseBroadcast"})
    assert harness.runtime.connections.get("l1") is None
    assert harness.runtime.sessions.get(session_id).listener_count == 0
