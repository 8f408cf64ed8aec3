"""publish_broadcast_state: control broadcasts are coalesced per session, and listeners end on the latest state.

The route sends the leading change at once and leaves ONE delayed message on the control queue for the rest of
its window; the function, fed that message, sends the session's state as it is then.
"""

from __future__ import annotations

import importlib
from typing import Any

import boto3
import pytest

from session_management.app import SessionRuntime
from tests.support.events import FakeLambdaContext
from tests.support.ports import free_port

follow_up_handler = importlib.import_module("session_management.handlers.publish_broadcast_state").handler


class ControlQueue:
    """The control queue as the event source mapping reads it (moto honours DelaySeconds in real time)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqs = boto3.client("sqs")

    def delayed(self) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesDelayed"])

    def visible(self) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def queued(self) -> int:
        """Follow-ups waiting, delayed or already due: a one-second delay may be over in real time before the
        test looks, on a loaded machine."""
        return self.delayed() + self.visible()

    def receive(self) -> list[dict[str, Any]]:
        """The queued follow-ups once their delay is over (a long poll: waits on SQS, not on a clock)."""
        messages = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=5, AttributeNames=["All"]
        ).get("Messages", [])
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return messages


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:control",
                "awsRegion": "eu-west-1",
            }
            for m in messages
        ]
    }


@pytest.fixture
def queue(runtime, session, clock) -> ControlQueue:
    """The session's control queue; the clock moved past the one-second window the set-up messages counted in
    (10 control messages a second per connection)."""
    clock.advance(1)
    return ControlQueue(runtime.settings.control_queue_url)


def deliver_follow_ups(harness, queue: ControlQueue) -> dict[str, Any]:
    messages = queue.receive()
    assert messages, "no follow-up was queued"
    return follow_up_handler.using(harness.runtime)(sqs_event(messages), FakeLambdaContext())


def volumes(harness, connection: str) -> list[float]:
    return [m["broadcastState"]["volume"] for m in harness.sink.messages(connection, "broadcastStateChanged")]


def test_ten_volume_changes_in_one_second_reach_listeners_at_most_twice_a_second_and_end_on_the_last(
    harness, session, clock, queue
):
    start = clock.now()
    sent_at: list[float] = []
    for step in range(10):
        before = len(volumes(harness, "l1"))
        harness.send("spk", {"action": "setVolume", "volume": round(0.05 * (step + 1), 2)})
        if len(volumes(harness, "l1")) > before:
            sent_at.append(clock.now() - start)
        clock.advance(0.1)
    assert volumes(harness, "spk")[-1] == 0.5  # the speaker is answered every change at once
    # the leading change and the first change after the half-second window went out at once
    assert sent_at == pytest.approx([0.0, 0.5])
    # one delayed follow-up stands for every change held back since
    assert queue.queued() <= 1


def test_trailing_broadcast_carries_the_final_volume_once(harness, session, clock, queue):
    for step in range(10):
        harness.send("spk", {"action": "setVolume", "volume": round(0.05 * (step + 1), 2)})
        clock.advance(0.1)
    assert queue.queued() == 1, "exactly one follow-up for the nine held-back changes"
    assert volumes(harness, "l1")[-1] != 0.5  # held back so far
    clock.advance(0.2)
    result = deliver_follow_ups(harness, queue)
    assert result == {"batchItemFailures": []}
    for listener in ("l1", "l2"):
        assert volumes(harness, listener)[-1] == 0.5
        assert len(volumes(harness, listener)) == 3  # 0.0 s, 0.5 s, the trailing one: not ten
    assert harness.runtime.sessions.get(session).volume == 0.5


def test_broadcasts_of_one_session_are_a_window_apart_whoever_sends_them(harness, session, clock, queue):
    """Leading and trailing broadcasts share the one window: 20 changes over 2 s give at most 2 a second."""
    times: list[float] = []
    start = clock.now()
    for step in range(20):
        before = len(volumes(harness, "l1"))
        harness.send("spk", {"action": "setVolume", "volume": round(0.04 * (step + 1), 2)})
        if queue.visible():  # a follow-up came due while the slider moved: the function runs as SQS delivers
            deliver_follow_ups(harness, queue)
        if len(volumes(harness, "l1")) > before:
            times.append(clock.now() - start)
        clock.advance(0.1)
    clock.advance(1)
    if queue.queued():
        deliver_follow_ups(harness, queue)
    assert volumes(harness, "l1")[-1] == 0.8
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert all(gap >= 0.5 - 1e-3 for gap in gaps), times  # (the clock counts in floats)
    assert len(volumes(harness, "l1")) <= 2 * 3 + 1


def test_pause_then_resume_quickly_ends_on_resumed(harness, session, clock, queue):
    harness.send("spk", {"action": "pauseBroadcast"})
    clock.advance(0.1)
    harness.send("spk", {"action": "resumeBroadcast"})
    assert harness.last("l1", "broadcastStateChanged")["broadcastState"]["isPaused"] is True
    assert harness.last("spk", "broadcastStateChanged")["broadcastState"]["isPaused"] is False
    clock.advance(0.5)
    deliver_follow_ups(harness, queue)
    for connection in ("spk", "l1", "l2"):
        assert harness.last(connection, "broadcastStateChanged")["broadcastState"]["isPaused"] is False


def test_follow_up_sends_nothing_when_a_broadcast_already_carried_the_latest_state(harness, session, clock, queue):
    harness.send("spk", {"action": "muteBroadcast"})
    clock.advance(0.1)
    harness.send("spk", {"action": "setVolume", "volume": 0.3})  # held back: a follow-up is queued
    clock.advance(0.5)
    harness.send("spk", {"action": "setVolume", "volume": 0.4})  # window open: goes out, carrying everything
    assert volumes(harness, "l1") == [1.0, 0.4]
    deliver_follow_ups(harness, queue)
    assert volumes(harness, "l1") == [1.0, 0.4]
    assert queue.queued() == 0


def test_follow_up_inside_a_newer_window_schedules_itself_again(harness, session, clock, queue):
    harness.send("spk", {"action": "setVolume", "volume": 0.1})
    clock.advance(0.1)
    harness.send("spk", {"action": "setVolume", "volume": 0.2})  # held back
    clock.advance(0.5)
    harness.send("spk", {"action": "setVolume", "volume": 0.3})  # leading of a new window
    harness.runtime.sessions.update_broadcast(session, volume=0.35)  # another change, marked as pending already
    clock.advance(0.1)
    deliver_follow_ups(harness, queue)  # the first follow-up arrives inside the new window
    assert volumes(harness, "l1") == [0.1, 0.3]
    assert queue.queued() == 1  # so it queued the next one itself
    clock.advance(0.5)
    deliver_follow_ups(harness, queue)
    assert volumes(harness, "l1") == [0.1, 0.3, 0.35]


def test_a_follow_up_that_cannot_be_queued_broadcasts_at_once(harness, session, clock, runtime, monkeypatch):
    harness.send("spk", {"action": "setVolume", "volume": 0.1})
    clock.advance(0.1)
    updated = runtime.sessions.update_broadcast(session, volume=0.2)
    with monkeypatch.context() as environment:  # another environment of the function, whose SQS is unreachable
        environment.setenv("AWS_ENDPOINT_URL_SQS", f"http://127.0.0.1:{free_port()}")
        control = SessionRuntime.build_session(runtime.settings, clock).control
    control.changed(updated)
    assert volumes(harness, "l1") == [0.1, 0.2]
    # and the mark is gone: the next change inside a window may queue its follow-up
    clock.advance(0.1)
    harness.send("spk", {"action": "setVolume", "volume": 0.25})
    assert ControlQueue(runtime.settings.control_queue_url).queued() == 1


def test_follow_up_for_an_ended_session_sends_nothing(harness, session, clock, queue):
    harness.send("spk", {"action": "setVolume", "volume": 0.1})
    clock.advance(0.1)
    harness.send("spk", {"action": "setVolume", "volume": 0.2})
    harness.send("spk", {"action": "endSession"})
    clock.advance(1)
    deliver_follow_ups(harness, queue)
    assert volumes(harness, "l1") == [0.1]


def test_a_large_audience_widens_the_window_to_keep_the_call_budget(harness, session, clock, queue, settings, sink):
    """Three connections at 3 calls a second: one broadcast a second, not two."""
    from session_management.app import SessionRuntime
    from tests.support.harness import Harness

    budgeted = Harness(
        SessionRuntime.build_session(settings.model_copy(update={"control_calls_per_second": 3.0}), clock), sink
    )
    budgeted.send("spk", {"action": "setVolume", "volume": 0.1})
    clock.advance(0.6)  # past 1 / rate (0.5 s), inside (2 listeners + speaker) / 3 calls a second
    budgeted.send("spk", {"action": "setVolume", "volume": 0.2})
    assert volumes(budgeted, "l1") == [0.1]
    assert queue.queued() == 1
    clock.advance(0.4)
    deliver_follow_ups(budgeted, queue)
    assert volumes(budgeted, "l1") == [0.1, 0.2]


def test_captions_held_back_by_the_worker_reach_every_listener_through_the_queue(harness, session, clock, queue):
    """The transcription worker's change (Transcribe refused the stream): the state, then one message at once."""
    from broadcast_shared.control_queue import FollowUpQueue

    harness.runtime.sessions.update_broadcast(session, captions_delayed=True)
    FollowUpQueue(queue.sqs, queue.url).send(session)
    deliver_follow_ups(harness, queue)
    for connection in ("spk", "l1", "l2"):
        (state,) = [m["broadcastState"] for m in harness.sink.messages(connection, "broadcastStateChanged")]
        assert state.get("captionsDelayed") is True, connection
    clock.advance(1)
    harness.runtime.sessions.update_broadcast(session, captions_delayed=False)
    FollowUpQueue(queue.sqs, queue.url).send(session)
    deliver_follow_ups(harness, queue)
    latest = harness.sink.messages("l1", "broadcastStateChanged")[-1]["broadcastState"]
    assert "captionsDelayed" not in latest


@pytest.mark.parametrize("body", ["not json", "{}", '{"sessionId": ""}', '{"sessionId": "s", "extra": 1}'])
def test_a_control_message_the_model_refuses_is_counted_and_not_retried(harness, session, queue, body, capsys):
    queue.sqs.send_message(QueueUrl=queue.url, MessageBody=body)
    result = deliver_follow_ups(harness, queue)
    assert result == {"batchItemFailures": []}, "a message that can never parse is not retried"
    assert harness.sink.messages("l1", "broadcastStateChanged") == []
    assert '"ControlMessagesRefused"' in capsys.readouterr().out
