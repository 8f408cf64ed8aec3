"""A transcript segment becomes captions and speech for exactly the languages listeners chose."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from boto3.dynamodb.conditions import Key

from broadcast_shared.messages.segments import EmotionDynamics, TranscriptSegment
from tests.support.engines import RecordingSynthesizer, RecordingTranslator
from tests.support.events import FakeLambdaContext
from tests.support.tables import transcripts_table, translation_cache_table
from tests.support.waiting import eventually
from translation_pipeline.app import PipelineRuntime
from translation_pipeline.handlers.translate_segment import handler
from translation_pipeline.pipeline import AUDIO_BYTES_PER_MESSAGE


def segment(session_id: str, text: str = "good morning everyone", is_partial: bool = False, **changes):
    return TranscriptSegment(
        session_id=session_id,
        source_language=changes.pop("source_language", "en"),
        segment_id=changes.pop("segment_id", "s0-u1"),
        text=text,
        is_partial=is_partial,
        stability=0.5 if is_partial else 1.0,
        start_time=changes.pop("start_time", 0.0),
        end_time=changes.pop("end_time", 1.5),
        dynamics=changes.pop("dynamics", EmotionDynamics()),
        **changes,
    )


def invoke(runtime: PipelineRuntime, event: dict) -> dict:
    return handler.using(runtime)(event, FakeLambdaContext())


@pytest.fixture
def session(harness) -> str:
    session_id = harness.speaker_with_session()
    harness.listener_in(session_id, "es-1", "es")
    harness.listener_in(session_id, "es-2", "es")
    harness.listener_in(session_id, "fr-1", "fr")
    return session_id


def test_a_final_is_translated_once_per_listened_language_and_sent_with_its_speech(
    session, harness, pipeline_runtime, translator, synthesizer
):
    result = invoke(pipeline_runtime, segment(session).to_wire())

    assert sorted(translator.calls) == [("good morning everyone", "en", "es"), ("good morning everyone", "en", "fr")]
    assert result == {"languages": {"es": 2, "fr": 1}, "callsPerListener": {"es": 1, "fr": 1}}
    for connection, language in (("es-1", "es"), ("es-2", "es"), ("fr-1", "fr")):
        (message,) = harness.sink.messages(connection, "translation")
        assert (message["language"], message["text"], message["isPartial"]) == (
            language,
            f"<{language}> good morning everyone",
            False,
        )
        assert message["translated"] and message["segmentId"] == "s0-u1"
        assert message["audio"]["format"] == "audio/mpeg" and message["audio"]["final"]
        assert len(base64.b64decode(message["audio"]["data"])) == 4000
    assert sorted(language for language, _ in synthesizer.ssml) == ["es", "fr"]  # concurrently
    assert harness.sink.messages("spk", "translation") == []


def test_partials_are_captions_only_marked_partial(session, harness, pipeline_runtime, synthesizer):
    invoke(pipeline_runtime, segment(session, "good morning", is_partial=True).to_wire())
    (message,) = harness.sink.messages("fr-1", "translation")
    assert message["isPartial"] and "audio" not in message
    assert synthesizer.ssml == []


def test_partials_reach_only_listeners_showing_captions_and_finals_reach_everyone(
    harness, pipeline_runtime, translator
):
    session_id = harness.speaker_with_session()
    harness.listener_in(session_id, "es-reads", "es")
    harness.listener_in(session_id, "es-hears", "es", captions=False)
    harness.listener_in(session_id, "fr-hears", "fr", captions=False)

    result = invoke(pipeline_runtime, segment(session_id, "good morning", is_partial=True).to_wire())

    assert result["languages"] == {"es": 1}
    assert translator.calls == [("good morning", "en", "es")]  # French has no caption listener: not translated
    assert [m["isPartial"] for m in harness.sink.messages("es-reads", "translation")] == [True]
    assert harness.sink.messages("es-hears", "translation") == harness.sink.messages("fr-hears", "translation") == []

    invoke(pipeline_runtime, segment(session_id).to_wire())
    for connection in ("es-reads", "es-hears", "fr-hears"):
        (final,) = [m for m in harness.sink.messages(connection, "translation") if not m["isPartial"]]
        assert "audio" in final


def test_the_cache_answers_a_repeated_text_without_translating_again(session, pipeline_runtime, translator, settings):
    invoke(pipeline_runtime, segment(session).to_wire())
    invoke(pipeline_runtime, segment(session, "Good  morning EVERYONE", segment_id="s0-u2").to_wire())  # same text
    assert len(translator.calls) == 2  # es and fr, once each
    items = boto3.resource("dynamodb").Table(translation_cache_table(settings)).scan()["Items"]
    cached = [item for item in items if not item["cacheKey"].startswith("segment#")]
    assert len(cached) == 2 and all(int(item["expiresAt"]) > 0 for item in cached)


def test_captions_never_go_backwards_when_invokes_arrive_out_of_order(session, harness, pipeline_runtime):
    invoke(pipeline_runtime, segment(session, "good morning every", is_partial=True).to_wire())
    invoke(pipeline_runtime, segment(session, "good morning", is_partial=True).to_wire())  # older partial, late
    invoke(pipeline_runtime, segment(session, "good morning everyone").to_wire())
    invoke(pipeline_runtime, segment(session, "good morning everyone and", is_partial=True).to_wire())  # after final
    invoke(pipeline_runtime, segment(session, "good morning everyone").to_wire())  # the final again (a retry)
    texts = [(m["text"], m["isPartial"]) for m in harness.sink.messages("es-1", "translation")]
    assert texts == [("<es> good morning every", True), ("<es> good morning everyone", False)]


def test_nothing_is_done_while_paused_or_after_the_session_ended(session, harness, pipeline_runtime, translator):
    harness.send("spk", {"action": "pauseBroadcast"})
    invoke(pipeline_runtime, segment(session).to_wire())
    harness.send("spk", {"action": "resumeBroadcast"})
    harness.send("spk", {"action": "endSession"})
    invoke(pipeline_runtime, segment(session).to_wire())
    assert translator.calls == [] and harness.sink.messages("es-1", "translation") == []


def test_muted_broadcasts_get_captions_without_speech_and_volume_shapes_the_ssml(
    session, harness, pipeline_runtime, synthesizer
):
    harness.send("spk", {"action": "muteBroadcast"})
    invoke(pipeline_runtime, segment(session).to_wire())
    muted = harness.sink.messages("es-1", "translation")[-1]
    assert "audio" not in muted and "speech" not in muted and synthesizer.ssml == []  # none wanted: no speech field
    harness.send("spk", {"action": "unmuteBroadcast"})
    harness.send("spk", {"action": "setVolume", "volume": 0.5})
    louder = EmotionDynamics(volume=0.5, rate=1.2)
    invoke(pipeline_runtime, segment(session, segment_id="s0-u2", dynamics=louder).to_wire())
    language, ssml = synthesizer.ssml[0]
    assert 'volume="-6.0dB"' in ssml and 'rate="120%"' in ssml


def test_translation_failure_sends_the_source_text_marked_untranslated_spoken_in_the_source_language(
    session, harness, pipeline_runtime, synthesizer
):
    harness.listener_in(session, "de-1", "de")
    invoke(pipeline_runtime, segment(session).to_wire())
    (message,) = harness.sink.messages("de-1", "translation")
    assert (message["text"], message["translated"]) == ("good morning everyone", False)
    assert sorted(language for language, _ in synthesizer.ssml) == ["en", "es", "fr"]


def test_speech_failure_still_sends_the_caption(session, harness, settings, translation_settings, clock):
    runtime = PipelineRuntime.build(
        settings, translation_settings, clock, RecordingTranslator(), RecordingSynthesizer(failing={"fr"})
    )
    invoke(runtime, segment(session).to_wire())
    (fr,) = harness.sink.messages("fr-1", "translation")
    assert "audio" not in fr and fr["text"] == "<fr> good morning everyone"
    assert fr["speech"] == "skipped"  # never silently missing
    (es,) = harness.sink.messages("es-1", "translation")
    assert "audio" in es and es["speech"] == "neural"


def test_long_speech_is_split_into_pieces_under_the_websocket_limit(
    session, harness, settings, translation_settings, clock
):
    size = AUDIO_BYTES_PER_MESSAGE * 2 + 1000
    runtime = PipelineRuntime.build(
        settings, translation_settings, clock, RecordingTranslator(), RecordingSynthesizer(size)
    )
    result = invoke(runtime, segment(session).to_wire())
    assert result["callsPerListener"] == {"es": 3, "fr": 3}
    caption = harness.sink.messages("fr-1", "translation")[0]
    pieces = [caption["audio"], *harness.sink.messages("fr-1", "audio")]
    assert [(p["chunkIndex"], p["final"]) for p in pieces] == [(0, False), (1, False), (2, True)]
    assert sum(len(base64.b64decode(p["data"])) for p in pieces) == size
    for message in [caption, *harness.sink.messages("fr-1", "audio")]:
        assert len(json.dumps(message)) < 128 * 1024


def test_gone_listeners_are_removed_and_the_others_still_served(session, harness, pipeline_runtime, runtime):
    harness.sink.close("es-1")
    invoke(pipeline_runtime, segment(session).to_wire())
    assert harness.sink.messages("es-2", "translation")
    assert runtime.connections.get("es-1") is None
    assert runtime.sessions.get(session).language_counts == {"es": 1, "fr": 1}


def test_failing_to_read_the_audience_fails_the_invocation_so_lambda_retries(
    session, settings, translation_settings, clock, translator
):

    broken = settings.model_copy(update={"connections_by_session_index": "no-such-index"})
    runtime = PipelineRuntime.build(broken, translation_settings, clock, translator, RecordingSynthesizer())
    with pytest.raises(Exception, match="index|Index"):
        invoke(runtime, segment(session).to_wire())
    assert translator.calls == []


def test_a_payload_that_is_not_a_segment_is_reported_not_retried(pipeline_runtime, translator):
    assert invoke(pipeline_runtime, {"sessionId": "x"}) == {"languages": {}, "callsPerListener": {}}
    assert translator.calls == []


def test_the_session_terminology_reaches_the_translator(harness, pipeline_runtime, translator):
    harness.connect("spk2", "speaker", user_id="user-2")
    harness.send("spk2", {"action": "createSession", "sourceLanguage": "en", "terminology": "acme"})
    session_id = harness.last("spk2", "sessionCreated")["sessionId"]
    harness.listener_in(session_id, "es-9", "es")
    invoke(pipeline_runtime, segment(session_id).to_wire())
    assert translator.terminologies == ["acme"]


def test_a_long_cjk_final_and_its_speech_fit_every_message_under_the_frame_limit(
    harness, settings, translation_settings, clock
):
    session_id = harness.speaker_with_session(source_language="zh")
    harness.listener_in(session_id, "zh-1", "zh")
    size = AUDIO_BYTES_PER_MESSAGE + 5000
    runtime = PipelineRuntime.build(
        settings, translation_settings, clock, RecordingTranslator(), RecordingSynthesizer(size)
    )
    text = "我们今天讨论翻译系统的设计" * 100  # 1,300 characters: 7.8 KB as \u escapes, 3.9 KB as UTF-8
    invoke(runtime, segment(session_id, text, source_language="zh").to_wire())
    (caption,) = harness.sink.messages("zh-1", "translation")
    pieces = [caption["audio"], *harness.sink.messages("zh-1", "audio")]
    assert caption["text"] == text and pieces[-1]["final"]
    assert sum(len(base64.b64decode(p["data"])) for p in pieces) == size
    for message in [caption, *pieces[1:]]:
        assert len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()) <= 128 * 1024


def test_a_language_that_fails_before_delivery_stays_unclaimed_and_its_retry_delivers_it_once(
    session, harness, settings, translation_settings, clock
):
    class TimingOutOnce(RecordingTranslator):
        def translate(self, text, source, target, terminology=None):
            if target == "fr" and not any(call[2] == "fr" for call in self.calls):
                self.calls.append((text, source, target))
                raise TimeoutError("Translate timed out")
            return super().translate(text, source, target, terminology)

    runtime = PipelineRuntime.build(settings, translation_settings, clock, TimingOutOnce(), RecordingSynthesizer())
    with pytest.raises(Exception, match="not delivered in fr"):
        invoke(runtime, segment(session).to_wire())
    assert harness.sink.messages("fr-1", "translation") == []
    invoke(runtime, segment(session).to_wire())  # Lambda's retry of the event
    assert [m["text"] for m in harness.sink.messages("fr-1", "translation")] == ["<fr> good morning everyone"]
    assert len(harness.sink.messages("es-1", "translation")) == 1  # es was claimed and is not sent again


def test_a_slow_language_does_not_delay_another(session, harness, settings, translation_settings, clock):
    class SlowSpanish(RecordingTranslator):
        def translate(self, text, source, target, terminology=None):
            if target == "es":  # es comes first in any sequential order: it waits until fr reached its listener
                eventually(
                    lambda: harness.sink.messages("fr-1", "translation"),
                    interval=0.01,
                    what="fr reaching its listener while es waits",
                )
            return super().translate(text, source, target, terminology)

    runtime = PipelineRuntime.build(settings, translation_settings, clock, SlowSpanish(), RecordingSynthesizer())
    invoke(runtime, segment(session).to_wire())
    assert harness.sink.messages("fr-1", "translation") and harness.sink.messages("es-1", "translation")


def test_a_growing_partial_pays_for_its_last_block_of_words_only(session, harness, pipeline_runtime, translator):
    from translation_pipeline.pipeline import PARTIAL_BLOCK_WORDS

    words = [f"w{i}" for i in range(PARTIAL_BLOCK_WORDS + 3)]
    invoke(pipeline_runtime, segment(session, " ".join(words[:PARTIAL_BLOCK_WORDS]), is_partial=True).to_wire())
    translator.calls.clear()
    invoke(pipeline_runtime, segment(session, " ".join(words), is_partial=True).to_wire())
    tail = " ".join(words[PARTIAL_BLOCK_WORDS:])
    assert sorted(translator.calls) == [(tail, "en", "es"), (tail, "en", "fr")]
    (_, latest) = harness.sink.messages("es-1", "translation")
    assert latest["text"] == f"<es> {' '.join(words[:PARTIAL_BLOCK_WORDS])} <es> {tail}"


def test_a_final_pays_only_for_the_blocks_its_partials_did_not_complete(session, harness, pipeline_runtime, translator):
    from translation_pipeline.pipeline import PARTIAL_BLOCK_WORDS

    words = [f"w{i}" for i in range(PARTIAL_BLOCK_WORDS + 3)]
    invoke(pipeline_runtime, segment(session, " ".join(words[: PARTIAL_BLOCK_WORDS + 1]), is_partial=True).to_wire())
    translator.calls.clear()
    invoke(pipeline_runtime, segment(session, " ".join(words)).to_wire())
    tail = " ".join(words[PARTIAL_BLOCK_WORDS:])
    assert sorted(translator.calls) == [(tail, "en", "es"), (tail, "en", "fr")]
    (final,) = [m for m in harness.sink.messages("es-1", "translation") if not m["isPartial"]]
    assert final["text"] == f"<es> {' '.join(words[:PARTIAL_BLOCK_WORDS])} <es> {tail}"


def test_blocks_end_at_a_sentence_or_after_six_words():
    from translation_pipeline.pipeline import PARTIAL_BLOCK_WORDS, blocks

    assert PARTIAL_BLOCK_WORDS == 6
    assert blocks("Good morning. Today we talk about the budget for next year and more") == [
        "Good morning.",
        "Today we talk about the budget",
        "for next year and more",
    ]
    assert blocks("  ") == []


def test_a_segment_for_one_language_reaches_only_that_languages_listeners(session, harness, pipeline_runtime):
    result = invoke(pipeline_runtime, segment(session, target_language="fr").to_wire())
    assert result["languages"] == {"fr": 1}
    assert harness.sink.messages("es-1", "translation") == [] and harness.sink.messages("fr-1", "translation")
    assert harness.sink.messages("fr-1", "translation")[0]["startTime"] == 0.0


def test_a_large_audience_is_split_across_concurrent_invocations_and_a_failed_slice_is_sent_anyway(
    session, harness, settings, translation_settings, clock, runtime
):
    import io
    import threading

    invocations = []
    lock = threading.Lock()

    class SelfInvoke:
        """The Lambda Invoke API in front of the same handler; the second slice's invoke fails."""

        def invoke(self, FunctionName, InvocationType, Payload):  # noqa: N803 - boto3's names
            event = json.loads(Payload)
            with lock:
                invocations.append(event["connectionIds"])
                failing = len(invocations) == 2
            if failing:
                return {"FunctionError": "Unhandled", "Payload": io.BytesIO(b'{"errorMessage": "boom"}')}
            result = invoke(sliced, event)
            return {"Payload": io.BytesIO(json.dumps(result).encode())}

    harness.listener_in(session, "es-3", "es")
    harness.sink.close("es-3")  # gone: found by a slice, removed by the invocation that split
    one_each = translation_settings.model_copy(update={"fanout_slice_size": 1, "fanout_function_name": "translate"})
    sliced = PipelineRuntime.build(
        settings, one_each, clock, RecordingTranslator(), RecordingSynthesizer(), lambda_client=SelfInvoke()
    )
    invoke(sliced, segment(session).to_wire())
    # es: three slices of one, the first sent by this invocation, two by invokes (one failing); fr: one slice.
    assert len(invocations) == 2 and all(len(ids) == 1 for ids in invocations)
    for connection in ("es-1", "es-2", "fr-1"):
        assert len(harness.sink.messages(connection, "translation")) == 1
    assert runtime.connections.get("es-3") is None


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"type": "fanOutSlice", "message": {"type": "translation"}}, "connectionIds: Field required"),
        ({"type": "fanOutSlice", "message": {"type": "translation"}, "connectionIds": []}, "at least 1 item"),
        ({"type": "fanOutSlice", "message": "hello", "connectionIds": ["es-1"]}, "message: Input should be a valid"),
    ],
)
def test_a_slice_event_the_model_refuses_posts_nothing_and_is_answered_with_its_code(
    session, harness, pipeline_runtime, event, problem
):
    result = invoke(pipeline_runtime, event)
    assert result["code"] == "INVALID_MESSAGE" and problem in result["message"]
    assert harness.sink.messages("es-1", "translation") == []


def test_a_slice_answer_that_is_not_a_delivery_is_sent_from_the_invocation_that_split(
    session, harness, settings, translation_settings, clock
):
    import io

    class RefusingSibling:
        """The Invoke API in front of a sibling whose answer is a refusal, not a delivery."""

        def invoke(self, FunctionName, InvocationType, Payload):  # noqa: N803 - boto3's names
            return {"Payload": io.BytesIO(b'{"code": "INVALID_MESSAGE", "message": "connectionIds: Field required"}')}

    one_each = translation_settings.model_copy(update={"fanout_slice_size": 1, "fanout_function_name": "translate"})
    sliced = PipelineRuntime.build(
        settings, one_each, clock, RecordingTranslator(), RecordingSynthesizer(), lambda_client=RefusingSibling()
    )
    invoke(sliced, segment(session).to_wire())
    for connection in ("es-1", "es-2", "fr-1"):
        assert len(harness.sink.messages(connection, "translation")) == 1


def test_a_warm_up_loads_the_engines_for_a_language_pair_and_sends_nothing(
    session, harness, pipeline_runtime, translator, synthesizer
):
    result = invoke(pipeline_runtime, {"type": "warmUp", "sourceLanguage": "en", "targetLanguage": "es"})
    assert result["warmed"] == "es" and translator.calls == [("Hello.", "en", "es")]
    assert [language for language, _ in synthesizer.ssml] == ["es"]
    assert harness.sink.messages("es-1", "translation") == []


@pytest.mark.parametrize(
    ("event", "code", "problem"),
    [
        # once warmed the language "None"
        ({"type": "warmUp", "sourceLanguage": "en"}, "INVALID_MESSAGE", "needs targetLanguage"),
        ({"type": "warmUp", "sourceLanguage": "en", "targetLanguage": None}, "INVALID_MESSAGE", "needs targetLanguage"),
        ({"type": "warmUp", "targetLanguage": "es"}, "INVALID_MESSAGE", "sourceLanguage: Field required"),
        ({"type": "warmUp", "sourceLanguage": "en", "targetLanguage": "xx"}, "UNSUPPORTED_LANGUAGE", "language 'xx'"),
        (
            {"type": "warmUp", "sourceLanguage": "en", "targetLanguage": "es", "langs": 1},
            "INVALID_MESSAGE",
            "langs: Extra inputs",
        ),
    ],
)
def test_a_warm_up_the_model_refuses_is_answered_with_its_code_and_loads_nothing(
    pipeline_runtime, translator, synthesizer, event, code, problem
):
    result = invoke(pipeline_runtime, event)
    assert result["warmedUp"] is False and result["code"] == code and problem in result["message"]
    assert translator.calls == [] and synthesizer.ssml == []


def kept(settings, session_id: str, language: str) -> list[dict]:
    """The transcript the pipeline kept for a language, in order."""
    table = boto3.resource("dynamodb").Table(transcripts_table(settings))
    items = table.query(KeyConditionExpression=Key("sessionLanguage").eq(f"{session_id}#{language}"))["Items"]
    return [{k: item[k] for k in ("segmentId", "text", "translated")} for item in items]


def test_a_delivered_final_is_kept_once_per_language_and_in_the_source_language(
    session, settings, pipeline_runtime, clock
):
    invoke(pipeline_runtime, segment(session, "good evening", segment_id="s0-u2", start_time=3.0).to_wire())
    invoke(pipeline_runtime, segment(session).to_wire())
    invoke(pipeline_runtime, segment(session).to_wire())  # a retried invoke keeps nothing twice

    assert kept(settings, session, "en") == [
        {"segmentId": "s0-u1", "text": "good morning everyone", "translated": True},
        {"segmentId": "s0-u2", "text": "good evening", "translated": True},
    ]
    assert [item["text"] for item in kept(settings, session, "fr")] == [
        "<fr> good morning everyone",
        "<fr> good evening",
    ]
    scanned = boto3.resource("dynamodb").Table(transcripts_table(settings)).scan()["Items"]
    # the finals only: the session's audience samples are kept beside them (the report after the talk)
    items = [item for item in scanned if not item["sessionLanguage"].endswith("#audience")]
    assert len(items) == 6 and {int(item["expiresAt"]) for item in items} == {int(clock.now()) + 7 * 86400}


def test_a_final_nobody_listens_to_is_kept_in_the_source_language_only(harness, settings, pipeline_runtime):
    session_id = harness.speaker_with_session()
    invoke(pipeline_runtime, segment(session_id, target_language="en").to_wire())
    assert [item["text"] for item in kept(settings, session_id, "en")] == ["good morning everyone"]
    assert kept(settings, session_id, "es") == []


def test_partials_are_not_kept(session, settings, pipeline_runtime):
    invoke(pipeline_runtime, segment(session, "good morning", is_partial=True).to_wire())
    assert kept(settings, session, "en") == [] and kept(settings, session, "es") == []


def test_an_untranslated_final_is_kept_marked_untranslated(harness, settings, pipeline_runtime):
    session_id = harness.speaker_with_session()
    harness.listener_in(session_id, "de-1", "de")  # the translator double fails for de
    invoke(pipeline_runtime, segment(session_id).to_wire())
    assert kept(settings, session_id, "de") == [
        {"segmentId": "s0-u1", "text": "good morning everyone", "translated": False}
    ]


def test_translation_messages_carry_the_segments_end_time(session, harness, pipeline_runtime):
    invoke(pipeline_runtime, segment(session).to_wire())
    (message,) = harness.sink.messages("es-1", "translation")
    assert (message["startTime"], message["endTime"]) == (0.0, 1.5)


def test_a_final_that_arrives_after_the_session_ended_is_kept_for_the_speaker_but_not_delivered(
    session, harness, settings, pipeline_runtime
):
    harness.send("spk", {"action": "endSession"})
    invoke(pipeline_runtime, segment(session, target_language="en").to_wire())
    invoke(pipeline_runtime, segment(session, target_language="es").to_wire())
    assert [item["text"] for item in kept(settings, session, "en")] == ["good morning everyone"]
    assert kept(settings, session, "es") == []
    assert harness.sink.messages("es-1", "translation") == []
