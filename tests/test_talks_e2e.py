"""Four talks at once through the deployed local platform (issue #21): an event's parallel tracks.

Four speakers stream the eight-sentence Piper talk in real time, started 0.7 s apart, each to an es, an fr and a
second es listener; pocketsphinx recognises, as under ``make dev``. The local audio stream has a shard per talk it
is sized for, so the talks are recognised by worker invocations side by side, as on AWS. Every listener gets every
final of its talk, once and in the speaker's order. Speech end → caption p50/p95 is printed, not asserted (speed
targets belong in ``make bench``: ``python -m benchmarks talks``).
"""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.stats import percentile
from broadcast_tools.speech import TALK, synthesize
from tests.support.deployment import emulator_client
from tests.support.running_platform import RunningPlatform
from tests.support.talks import TalkRecord, run_talks

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(1)]

TALKS = 4
LISTENERS = ("es", "fr", "es")


@pytest.fixture(scope="module")
def talks(deployed_local) -> list[TalkRecord]:
    with RunningPlatform(deployed_local["endpoint"]) as stack:
        # The wait is generous for a loaded CI machine and ends as soon as every final reached every listener.
        return asyncio.run(run_talks(stack.url, synthesize(TALK), TALKS, LISTENERS, wait_seconds=180))


def test_the_local_audio_stream_has_a_shard_per_talk_it_is_sized_for(deployed_local):
    kinesis = emulator_client("kinesis", deployed_local["endpoint"])
    (name,) = [n for n in kinesis.list_streams()["StreamNames"] if n.endswith("-audio")]
    assert len(kinesis.list_shards(StreamName=name)["Shards"]) == TALKS


def test_every_listener_of_four_talks_at_once_gets_every_final_in_order(talks):
    latencies = [ms for talk in talks for ms in talk.caption_latencies_ms()]
    if latencies:
        print(
            f"{TALKS} talks at once, speech end -> caption: p50 {percentile(latencies, 0.5):.0f} ms, "
            f"p95 {percentile(latencies, 0.95):.0f} ms, max {max(latencies):.0f} ms (n={len(latencies)})"
        )
    assert len({talk.session_id for talk in talks}) == TALKS
    for talk in talks:
        assert talk.refused is None and talk.speaker_errors == []
        # What is delivered, not how much four pocketsphinx talks on two cores recognise (CI once saw 4 finals).
        assert talk.finals, f"session {talk.session_id}: no final"
        speaker_order = [message["segmentId"] for _, message in talk.finals]
        for listener in talk.listeners:
            if listener.join_failures:
                print(f"{listener.language} listener of {talk.session_id} joined again after {listener.join_failures}")
            assert listener.joined and listener.errors == []
            assert listener.segment_ids() == speaker_order, f"{listener.language} listener of {talk.session_id}"
            assert all(message["translated"] for _, message in listener.finals)
