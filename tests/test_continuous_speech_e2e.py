"""A speaker who hardly pauses, through the deployed local platform (issue #16).

Two minutes of the Piper test talk over and over, 0.2 s after each sentence and between
copies, streamed in real time to a Spanish listener. The platform bounds segments itself
(8 s of audio, 400 characters), so while the talk goes on:
- a final reaches the listener for at least every 15 s of speech (its segment's times; arrival times are
  printed);
- no final is longer than 400 characters;
- the listener's captions update while the speaker talks: every segment longer than 4 s of audio shows partial
  captions before its final (how long the listener waited between updates is printed: on a quiet machine the
  longest wait is under 2 s; it is a speed figure, so `make bench` owns it, and a two-process CI run on two cores
  once stretched it to 3 s);
- the finals' words cover the speech with nothing duplicated (word error rate against the
  script, which counts a repeated or a lost word alike; pocketsphinx alone measures
  0.05-0.08 on this speech).
"""

from __future__ import annotations

import pytest

from broadcast_tools.speech import continuous_talk, synthesize, word_error_rate
from tests.support.running_platform import RunningPlatform
from tests.support.talk import TalkResult, stream_talk

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(3)]

TALK_SECONDS = 120
CHUNK_MS = 200
MAX_FINAL_GAP_SECONDS = 15
MAX_FINAL_CHARACTERS = 400
MAX_WORD_ERROR_RATE = 0.15


def listener_finals(result: TalkResult) -> list[tuple[float, dict]]:
    return [(at, m) for at, m in result.heard.get("es", []) if m.get("type") == "translation" and not m["isPartial"]]


@pytest.fixture(scope="module")
def talk(deployed_local) -> tuple[TalkResult, str, float]:
    audio, script = continuous_talk(TALK_SECONDS)
    seconds = len(audio) / 32000
    with RunningPlatform(deployed_local["endpoint"]) as stack:
        # A sentence first, so the functions' cold starts (seconds on a loaded machine) are not
        # counted as stalls: the figures are about continuous speech, not start-up.
        stream_talk(stack.url, synthesize("Good morning everyone."), listeners=("es",), wait_seconds=60)
        result = stream_talk(
            stack.url,
            audio,
            chunk_ms=CHUNK_MS,
            pace=1.0,
            wait_seconds=90,
            listeners=("es",),
        )
    return result, script, seconds


def during_talk(result: TalkResult, seconds: float) -> tuple[float, float]:
    """When the first chunk was sent and when the last chunk of speech was."""
    return result.sent_at[0], result.sent_at[int(seconds * 1000 // CHUNK_MS) - 1]


def test_listener_gets_a_final_for_at_least_every_15_seconds_of_speech(talk):
    """The platform's own bound, in the talk's time (the finals' ``startTime``/``endTime``): how late each final
    arrives is the machine's (printed here; `make bench` measures it) and a two-process CI run on two cores once
    delayed one to 15.4 s after the one before while the segments themselves stayed within 9 s."""
    result, _, seconds = talk
    started, ended = during_talk(result, seconds)
    finals = [(at, m) for at, m in listener_finals(result) if at <= ended]
    arrivals = [at for at, _ in finals]
    gaps = [b - a for a, b in zip([started, *arrivals], [*arrivals, ended], strict=True)]
    print(f"finals during the talk: {len(arrivals)}, arrival gaps between them: {[round(gap, 1) for gap in gaps]}")
    ends = [float(m["endTime"]) for _, m in finals]
    spoken = [b - a for a, b in zip([0.0, *ends], ends, strict=False)]
    print(f"speech between their ends: {[round(gap, 1) for gap in spoken]}")
    assert len(arrivals) >= seconds // MAX_FINAL_GAP_SECONDS
    assert max(spoken) <= MAX_FINAL_GAP_SECONDS


def test_no_final_is_longer_than_400_characters(talk):
    result, _, _ = talk
    finals = [m["text"] for m in result.finals] + [m["text"] for _, m in listener_finals(result)]
    assert finals and max(len(text) for text in finals) <= MAX_FINAL_CHARACTERS


def test_listener_captions_update_while_the_speaker_talks(talk):
    result, _, seconds = talk
    _, ended = during_talk(result, seconds)
    captions = [(at, m) for at, m in result.heard["es"] if m.get("type") == "translation" and at <= ended]
    arrivals = [at for at, _ in captions]
    stall = max(b - a for a, b in zip(arrivals, [*arrivals[1:], ended], strict=True))
    print(f"captions during the talk: {len(captions)}, longest wait between updates {stall:.1f} s")
    with_partials = {m["segmentId"] for _, m in captions if m["isPartial"]}
    long_segments = [
        m["segmentId"] for _, m in captions if not m["isPartial"] and float(m["endTime"]) - float(m["startTime"]) > 4
    ]
    assert long_segments
    assert [segment for segment in long_segments if segment not in with_partials] == []


def test_finals_cover_the_speech_once_each_in_order(talk):
    result, script, _ = talk
    finals = result.finals
    assert [m["startTime"] for m in finals] == sorted(m["startTime"] for m in finals)
    ids = [m["segmentId"] for m in finals]
    heard = [m["segmentId"] for _, m in listener_finals(result)]
    assert len(set(ids)) == len(ids) and sorted(heard) == sorted(ids)  # each final once, to the listener too
    wer = word_error_rate(script, result.final_text)
    print(f"{len(finals)} finals, word error rate {wer:.3f}")
    assert wer <= MAX_WORD_ERROR_RATE
