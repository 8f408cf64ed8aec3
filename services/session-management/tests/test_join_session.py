import boto3

from tests.support.aws_faults import Fault, inject, transaction_conflict


def test_listener_joins_and_speaker_hears_the_new_count(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    joined = harness.last("l1", "sessionJoined")
    assert joined == {
        "type": "sessionJoined",
        "sessionId": session_id,
        "targetLanguage": "es",
        "sourceLanguage": "en",
        "broadcastState": {"isPaused": False, "isMuted": False, "volume": 1.0},
    }
    assert harness.last("spk", "listenerCountChanged")["listenerCount"] == 1


def test_first_listener_of_a_language_triggers_new_language_status(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    status = harness.last("spk", "sessionStatus")
    assert status["updateReason"] == "newLanguage"
    assert status["languageDistribution"] == {"es": 1}
    harness.listener_in(session_id, "l2", "fr")
    assert harness.last("spk", "sessionStatus")["languageDistribution"] == {"es": 1, "fr": 1}


def test_count_change_over_ten_percent_triggers_status_and_smaller_does_not(harness):
    session_id = harness.speaker_with_session("spk")
    for n in range(11):
        harness.listener_in(session_id, f"l{n}", "es")
    statuses = harness.sink.messages("spk", "sessionStatus")
    # 0->1 is new language; each later join moves the count by more than 10% until 10 -> 11.
    assert [s["updateReason"] for s in statuses][0] == "newLanguage"
    reported = [s["listenerCount"] for s in statuses]
    assert reported == sorted(reported)
    assert 11 not in reported, "10 -> 11 is exactly 10%, not more"
    assert harness.runtime.sessions.get(session_id).reported_listener_count == 10


def test_joining_unknown_session_is_refused(harness):
    harness.connect("l1", "listener")
    harness.send("l1", {"action": "joinSession", "sessionId": "no-such-123", "targetLanguage": "es"})
    assert harness.last("l1", "error")["code"] == "SESSION_NOT_FOUND"
    assert harness.runtime.connections.get("l1").session_id is None


def test_joining_an_ended_session_is_answered_as_an_unknown_one(harness):
    session_id = harness.speaker_with_session("spk")
    harness.send("spk", {"action": "endSession"})
    harness.connect("l1", "listener")
    harness.send("l1", {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es"})
    harness.send("l1", {"action": "joinSession", "sessionId": "calm-owl-bold-yak-1234", "targetLanguage": "es"})
    ended, unknown = harness.sink.messages("l1", "error")
    assert ended["code"] == unknown["code"] == "SESSION_NOT_FOUND"
    assert ended["message"].replace(session_id, "<id>") == unknown["message"].replace("calm-owl-bold-yak-1234", "<id>")
    assert set(ended["details"]) == set(unknown["details"]) == {"sessionId"}


def test_a_source_guessing_session_ids_is_locked_out_and_others_still_join(harness):
    from session_management.sessions import JOIN_FAILURES_ALLOWED, JOIN_FAILURES_WINDOW_SECONDS

    session_id = harness.speaker_with_session("spk")
    for n in range(JOIN_FAILURES_ALLOWED):
        guesser = f"g{n}"  # a new connection per guess: the lockout follows the address
        harness.connect(guesser, "listener")
        harness.runtime.clock.advance(1)
        harness.send(
            guesser, {"action": "joinSession", "sessionId": f"calm-owl-bold-yak-{1000 + n}", "targetLanguage": "es"}
        )
        assert harness.last(guesser, "error")["code"] == "SESSION_NOT_FOUND"
    harness.connect("g-right", "listener")
    harness.send("g-right", {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es"})
    locked = harness.last("g-right", "error")
    assert locked["code"] == "RATE_LIMITED" and locked["details"]["windowSeconds"] == JOIN_FAILURES_WINDOW_SECONDS
    assert harness.runtime.sessions.get(session_id).listener_count == 0

    harness.connect("other", "listener")  # another address is not affected
    harness.send(
        "other", {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es"}, source_ip="198.51.100.9"
    )
    assert harness.last("other", "sessionJoined")["sessionId"] == session_id
    harness.runtime.clock.advance(JOIN_FAILURES_WINDOW_SECONDS)  # the lockout ends with its window
    harness.send("g-right", {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es"})
    assert harness.last("g-right", "sessionJoined")["sessionId"] == session_id


def test_unsupported_target_language_is_refused(harness):
    session_id = harness.speaker_with_session("spk")
    harness.connect("l1", "listener")
    harness.send("l1", {"action": "joinSession", "sessionId": session_id, "targetLanguage": "tlh"})
    error = harness.last("l1", "error")
    assert error["code"] == "UNSUPPORTED_LANGUAGE"
    assert "tlh" in error["message"]
    assert harness.runtime.sessions.get(session_id).listener_count == 0


def test_a_listener_joins_with_or_without_captions_and_the_connection_keeps_it(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "reads", "es")
    harness.listener_in(session_id, "hears", "es", captions=False)
    connections = harness.runtime.connections
    assert (connections.get("reads").captions, connections.get("hears").captions) == (True, False)


def test_caption_counts_follow_joins_language_changes_and_leaves(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "reads", "es")
    harness.listener_in(session_id, "hears", "fr", captions=False)
    sessions = harness.runtime.sessions
    assert sessions.get(session_id).caption_languages == {"es"}
    harness.send("reads", {"action": "changeLanguage", "targetLanguage": "fr"})
    harness.send("hears", {"action": "changeLanguage", "targetLanguage": "es"})
    session = sessions.get(session_id)
    assert session.caption_counts == {"es": 0, "fr": 1} and session.language_counts == {"es": 1, "fr": 1}
    assert session.caption_languages == {"fr"}
    harness.disconnect("reads")
    assert sessions.get(session_id).caption_languages == frozenset()
    harness.disconnect("hears")
    assert sessions.get(session_id).caption_counts == {"es": 0, "fr": 0}


def test_a_session_from_before_caption_counts_takes_joins_and_leaves_and_shows_captions_everywhere(harness):
    session_id = harness.speaker_with_session("spk")
    table = boto3.resource("dynamodb").Table(harness.runtime.settings.sessions_table)
    table.update_item(Key={"sessionId": session_id}, UpdateExpression="REMOVE captionCounts")
    harness.listener_in(session_id, "reads", "es")
    harness.listener_in(session_id, "hears", "fr", captions=False)
    harness.send("hears", {"action": "changeLanguage", "targetLanguage": "de"})
    session = harness.runtime.sessions.get(session_id)
    assert session.caption_counts is None and session.caption_languages == {"es", "de"}
    harness.disconnect("reads")
    assert harness.runtime.sessions.get(session_id).language_counts == {"es": 0, "fr": 0, "de": 1}


def test_captions_must_be_a_boolean(harness):
    session_id = harness.speaker_with_session("spk")
    harness.connect("l1", "listener")
    join = {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es", "captions": "no"}
    harness.send("l1", join)
    assert harness.last("l1", "error")["code"] == "INVALID_MESSAGE"
    assert harness.runtime.sessions.get(session_id).listener_count == 0


def test_malformed_session_id_is_invalid(harness):
    harness.connect("l1", "listener")
    harness.send("l1", {"action": "joinSession", "sessionId": "DROP TABLE", "targetLanguage": "es"})
    assert harness.last("l1", "error")["code"] == "INVALID_MESSAGE"


def test_speaker_cannot_join_as_listener(harness):
    session_id = harness.speaker_with_session("spk")
    harness.send("spk", {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es"})
    assert harness.last("spk", "error")["code"] == "FORBIDDEN"


def test_listener_cannot_join_twice(harness):
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.send("l1", {"action": "joinSession", "sessionId": session_id, "targetLanguage": "fr"})
    assert harness.last("l1", "error")["code"] == "ALREADY_IN_SESSION"
    session = harness.runtime.sessions.get(session_id)
    assert session.listener_count == 1 and session.language_counts == {"es": 1}


def test_a_join_sent_again_is_answered_again_and_counted_once(harness):
    # The join took effect but its answer never came (the function timed out after joining): the client asks again.
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es", captions=False)
    harness.send("l1", {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es", "captions": False})
    assert len(harness.sink.messages("l1", "sessionJoined")) == 2
    assert not harness.sink.messages("l1", "error")
    session = harness.runtime.sessions.get(session_id)
    assert session.listener_count == 1 and session.language_counts == {"es": 1}
    # The same session with captions now: not the same join (captions are kept per connection).
    harness.send("l1", {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es"})
    assert harness.last("l1", "error")["code"] == "ALREADY_IN_SESSION"


def test_full_session_refuses_more_listeners(harness, settings, clock, sink):

    from session_management.app import SessionRuntime
    from tests.support.harness import Harness

    small = Harness(
        SessionRuntime.build_session(settings.model_copy(update={"max_listeners_per_session": 2}), clock), sink
    )
    session_id = small.speaker_with_session("spk")
    small.listener_in(session_id, "l1", "es")
    small.listener_in(session_id, "l2", "es")
    small.connect("l3", "listener")
    small.send("l3", {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es"})
    assert small.last("l3", "error")["code"] == "SESSION_FULL"
    assert small.runtime.sessions.get(session_id).listener_count == 2


def test_listener_joins_even_when_the_speakers_count_update_is_throttled(harness):
    session_id = harness.speaker_with_session("spk")
    inject(
        harness.runtime.notifier._client,
        Fault("PostToConnection", "LimitExceededException", 429, when=lambda p: p["ConnectionId"] == "spk"),
    )
    harness.connect("l1", "listener")
    harness.send("l1", {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es"})
    assert harness.last("l1", "sessionJoined")["sessionId"] == session_id
    assert harness.sink.messages("l1", "error") == []
    assert harness.runtime.sessions.get(session_id).listener_count == 1
    assert harness.runtime.sessions.get(session_id).is_active, "a throttled post is not a gone speaker"


def test_join_that_meets_a_transaction_conflict_joins(harness):
    session_id = harness.speaker_with_session("spk")
    conflict = inject(harness.runtime.sessions._client, transaction_conflict(2))
    harness.listener_in(session_id, "l1", "es")
    assert conflict.injected == 1
    assert harness.sink.messages("l1", "error") == []
    assert harness.runtime.sessions.get(session_id).listener_count == 1


def test_join_that_keeps_conflicting_is_not_called_already_in_session(harness):
    session_id = harness.speaker_with_session("spk")
    inject(harness.runtime.sessions._client, transaction_conflict(2, times=20))
    harness.connect("l1", "listener")
    harness.send("l1", {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es"})
    assert harness.last("l1", "error")["code"] == "INTERNAL_ERROR"
    assert harness.runtime.connections.get("l1").session_id is None
    assert harness.runtime.sessions.get(session_id).listener_count == 0


def test_a_languages_first_listener_warms_the_pipeline_for_it_and_later_ones_do_not(warming_harness, invoke_api):
    session_id = warming_harness.speaker_with_session("spk")
    invoke_api.invokes.clear()  # the session's own warm-ups
    warming_harness.listener_in(session_id, "l1", "es")
    warming_harness.listener_in(session_id, "l2", "es")
    warming_harness.listener_in(session_id, "l3", "fr")
    assert invoke_api.invokes == [
        ("translate-segment", {"type": "warmUp", "sourceLanguage": "en", "targetLanguage": "es"}, True),
        ("translate-segment", {"type": "warmUp", "sourceLanguage": "en", "targetLanguage": "fr"}, True),
    ]
