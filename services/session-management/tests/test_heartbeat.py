def test_heartbeat_is_acknowledged_and_refreshes_activity(harness, clock):
    harness.connect("l1", "listener")
    clock.advance(120)
    harness.send("l1", {"action": "heartbeat"})
    assert harness.last("l1", "heartbeatAck")["timestamp"] == clock.now()
    assert harness.runtime.connections.get("l1").last_seen_at == clock.now()


def test_rate_limit_refuses_the_eleventh_message_in_a_second(harness):
    harness.connect("l1", "listener")
    for _ in range(11):
        harness.send("l1", {"action": "heartbeat"})
    assert len(harness.sink.messages("l1", "heartbeatAck")) == 10
    error = harness.last("l1", "error")
    assert error["code"] == "RATE_LIMITED"


def test_rate_limit_window_moves_on(harness, clock):
    harness.connect("l1", "listener")
    for _ in range(11):
        harness.send("l1", {"action": "heartbeat"})
    clock.advance(1)
    harness.send("l1", {"action": "heartbeat"})
    assert len(harness.sink.messages("l1", "heartbeatAck")) == 11


def test_activity_is_written_at_most_once_a_minute(harness, clock):
    harness.connect("l1", "listener")
    connected = clock.now()
    clock.advance(30)
    harness.send("l1", {"action": "heartbeat"})
    assert harness.runtime.connections.get("l1").last_seen_at == connected
    clock.advance(30)
    harness.send("l1", {"action": "heartbeat"})
    assert harness.runtime.connections.get("l1").last_seen_at == clock.now()
