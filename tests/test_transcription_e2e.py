"""A recorded English talk (a Piper voice) through the deployed local platform: the speaker
sees partial and final transcripts, and the finals match the script.

Measured word error rate on this talk with pocketsphinx: 0.08 (docs/ARCHITECTURE.md);
the assertion (0.15) leaves room for timing differences between machines.
"""

from __future__ import annotations

import pytest

from broadcast_tools.speech import TALK, synthesize, word_error_rate
from support.local_stack import RunningStack
from support.talk import stream_talk

pytestmark = pytest.mark.terraform

MAX_WORD_ERROR_RATE = 0.15


@pytest.fixture(scope="module")
def talk_pcm() -> bytes:
    return synthesize(TALK)


def test_streamed_talk_is_transcribed_with_partials_and_accurate_finals(deployed_local, talk_pcm):
    with RunningStack(deployed_local["endpoint"]) as stack:
        result = stream_talk(stack.url, talk_pcm, chunk_ms=200, pace=2.0)

    assert result.errors == []
    assert result.partials, "no partial transcripts"
    assert all(m["sessionId"] == result.session_id for _, m in result.transcripts)
    # Partials of one segment only grow; its final comes last.
    by_segment: dict[str, list[dict]] = {}
    for _, message in result.transcripts:
        by_segment.setdefault(message["segmentId"], []).append(message)
    for messages in by_segment.values():
        texts = [m["text"] for m in messages if m["isPartial"]]
        assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:], strict=False))
        assert [m["isPartial"] for m in messages].count(False) <= 1
    wer = word_error_rate(TALK, result.final_text)
    print(f"word error rate {wer:.3f}: {result.final_text!r}")
    assert wer <= MAX_WORD_ERROR_RATE
