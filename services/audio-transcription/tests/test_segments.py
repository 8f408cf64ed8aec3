"""Bounded segments: a speaker who never pauses still gets finals of at most the bound, cut on
stable words, every word in exactly one final, in order (issue #16).

A scripted engine plays a long utterance as a recogniser would: partials as audio arrives,
the last few words unstable, one final at the end. It behaves like Transcribe (the result
goes on after a cut) or like pocketsphinx (the utterance restarts at the cut).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audio_transcription.engines import Recognition, Word, join_words
from audio_transcription.engines.sphinx import SphinxRecognizer
from audio_transcription.settings import AudioSettings
from audio_transcription.stabilizer import Stabilizer, StableText
from broadcast_shared.config import ConfigurationError
from broadcast_tools.speech import continuous_talk, word_error_rate

VOCABULARY = ("the", "team", "has", "worked", "very", "hard", "internationalisation", "responsibilities", "a")
MAX_SECONDS = 8.0
MAX_CHARACTERS = 400


def utterance(rng: random.Random, seconds: float) -> list[Word]:
    """Words (and Transcribe-style punctuation) covering ``seconds`` of speech without a real pause."""
    words, now = [], 0.0
    while now < seconds:
        now += rng.choice((0.0, 0.0, 0.0, 0.05, 0.2, 0.3))
        length = rng.uniform(0.08, 0.6)
        words.append(Word(rng.choice(VOCABULARY), round(now, 3), round(now + length, 3), False))
        now += length
        if rng.random() < 0.1:
            words.append(Word(rng.choice(".?,"), round(now, 3), round(now, 3), False, punctuation=True))
    return words


class ScriptedStream:
    """Plays ``words`` as they are heard; ``restarts`` makes a cut start a new result (as pocketsphinx does)."""

    def __init__(self, words: list[Word], lag: int, restarts: bool) -> None:
        self._words = words
        self._lag = lag
        self._restarts = restarts
        self._first = 0
        self._begin = 0.0
        self._stable = 0
        self._result = 1
        self.stable_until = 0.0

    def hear(self, now: float, lag_jitter: int) -> Recognition:
        heard = [w for w in self._words[self._first :] if w.end <= now]
        # A stable word stays stable (Transcribe's stabilisation); how far behind it lags varies.
        stable = self._stable = max(self._stable, len(heard) - self._lag - lag_jitter)
        while 0 < stable < len(heard) and heard[stable].punctuation:
            stable -= 1  # a punctuation mark is as stable as the word before it
        words = tuple(Word(w.text, w.start, w.end, i < stable, w.punctuation) for i, w in enumerate(heard))
        self.stable_until = words[stable - 1].end if stable else 0.0
        return Recognition(f"u{self._result}", join_words(words), True, self._begin, now, words)

    def final(self, now: float) -> Recognition:
        words = tuple(Word(w.text, w.start, w.end, True, w.punctuation) for w in self._words[self._first :])
        return Recognition(f"u{self._result}", join_words(words), False, self._begin, now, words)

    def cut(self, result_id: str, at: float) -> bool:
        if not self._restarts:
            return False
        closed = (i for i, w in enumerate(self._words) if w.start >= at and not w.punctuation)
        self._first, self._begin, self._stable = next(closed, len(self._words)), at, 0
        self._result += 1
        return True


def play(words: list[Word], seed: int, restarts: bool) -> tuple[list[StableText], list[float]]:
    """What the stabiliser forwards for the whole utterance; for each cut final, how far the words were stable."""
    rng = random.Random(seed)
    stream = ScriptedStream(words, lag=rng.randint(1, 3), restarts=restarts)
    stabilizer = Stabilizer(MAX_SECONDS, MAX_CHARACTERS)
    forwarded, stable_at_cut, now = [], [], 0.0
    while now < words[-1].end:
        now += rng.uniform(0.1, 1.0)
        sent = stabilizer.take([stream.hear(now, rng.randint(0, 2))], stream)
        stable_at_cut += [stream.stable_until for s in sent if s.cut]
        forwarded += sent
    forwarded += stabilizer.take([stream.final(words[-1].end + 0.3)], None)
    return forwarded, stable_at_cut


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), restarts=st.booleans())
def test_a_minute_without_a_pause_comes_out_as_bounded_finals_with_every_word_once_in_order(seed, restarts):
    words = utterance(random.Random(seed), 60.0)
    forwarded, stable_at_cut = play(words, seed, restarts)
    finals = [s for s in forwarded if not s.is_partial]
    assert " ".join(s.text for s in finals).split() == join_words(words).split()  # nothing lost or repeated
    assert len(finals) >= 60 / MAX_SECONDS
    assert all(s.end - s.start <= MAX_SECONDS + 1e-9 and len(s.text) <= MAX_CHARACTERS for s in finals)
    assert [s.start for s in finals] == sorted(s.start for s in finals)
    cuts = [s for s in finals if s.cut]
    assert cuts and all(s.end <= stable for s, stable in zip(cuts, stable_at_cut, strict=True))
    assert len({s.segment_id for s in finals}) == len(finals)
    for segment in {s.segment_id for s in forwarded}:
        messages = [s for s in forwarded if s.segment_id == segment]
        assert [s.is_partial for s in messages].count(False) == 1 and not messages[-1].is_partial
        texts = [s.text for s in messages]
        assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:], strict=False))


def word(text: str, start: float, end: float, punctuation: bool = False) -> Word:
    return Word(text, start, end, True, punctuation)


def test_a_cut_prefers_the_latest_sentence_end_within_the_bound():
    words = (
        word("one", 0.0, 3.0),
        word(".", 3.0, 3.0, punctuation=True),
        word("two", 3.0, 5.0),
        word(".", 5.0, 5.0, punctuation=True),
        word("three", 5.0, 7.5),
        word("four", 7.5, 9.0),
        Word("five", 9.0, 9.5, False),
    )
    (final,) = Stabilizer(MAX_SECONDS).accept(Recognition("r", "", True, 0.0, 9.5, words))
    assert (final.segment_id, final.text, final.end, final.cut) == ("r", "one. two.", 5.0, True)


def test_without_a_sentence_end_a_cut_prefers_the_longest_pause():
    words = (
        word("one", 0.0, 4.5),
        word("two", 4.8, 5.5),
        word("three", 5.5, 7.0),
        word("four", 7.0, 8.5),
        Word("five", 8.5, 9.0, False),
    )
    (final,) = Stabilizer(MAX_SECONDS).accept(Recognition("r", "", True, 0.0, 9.0, words))
    assert (final.text, final.end) == ("one", 4.5)


def test_without_a_sentence_end_or_pause_a_cut_takes_the_last_stable_word_within_the_bound():
    words = tuple(word(f"w{i}", i * 0.5, (i + 1) * 0.5) for i in range(20))
    (final,) = Stabilizer(MAX_SECONDS).accept(Recognition("r", "", True, 0.0, 10.0, words))
    assert (final.text.split()[-1], final.end) == ("w15", 8.0)


def test_the_rest_of_a_cut_result_goes_on_as_the_next_segment():
    stabilizer = Stabilizer(max_seconds=2.0)
    words = tuple(word(f"w{i}", i * 0.5, (i + 1) * 0.5) for i in range(6))
    (cut,) = stabilizer.accept(Recognition("r", "", True, 0.0, 3.0, (*words[:5], Word("w5", 2.5, 3.0, False))))
    assert (cut.segment_id, cut.text) == ("r", "w0 w1 w2 w3")
    (partial,) = stabilizer.accept(Recognition("r", "", True, 0.0, 3.0, (*words, Word("w6", 3.0, 3.2, False))))
    assert (partial.segment_id, partial.text, partial.is_partial, partial.start) == ("r-2", "w4 w5", True, 2.0)
    (final,) = stabilizer.accept(Recognition("r", "", False, 0.0, 3.2, (*words, word("w6", 3.0, 3.2))))
    assert (final.segment_id, final.text, final.is_partial) == ("r-2", "w4 w5 w6", False)


def test_results_taken_together_forward_only_the_latest_partial_of_a_segment_or_its_final():
    growing = [tuple(word(f"w{i}", i * 0.5, (i + 1) * 0.5) for i in range(n)) for n in (2, 3, 4)]
    results = [Recognition("a", "", True, 0.0, 2.5, (*words, Word("x", 2.0, 2.5, False))) for words in growing]
    results += [Recognition("a", "", False, 0.0, 2.5, growing[-1]), Recognition("b", "", True, 3.0, 4.0, growing[0])]
    results += [Recognition("b", "", True, 3.0, 4.0, growing[1])]
    taken = Stabilizer().take(results, None)
    assert [(s.segment_id, s.text, s.is_partial) for s in taken] == [
        ("a", "w0 w1 w2 w3", False),
        ("b", "w0 w1 w2", True),
    ]


def test_a_final_over_the_character_bound_is_split_into_finals_in_order():
    words = tuple(word("internationalisation", i * 0.1, (i + 1) * 0.1) for i in range(50))
    finals = Stabilizer().accept(Recognition("r", "", False, 0.0, 5.0, words))
    assert [s.segment_id for s in finals] == ["r", "r-2", "r-3"]
    assert all(len(s.text) <= MAX_CHARACTERS and not s.is_partial for s in finals)
    assert " ".join(s.text for s in finals) == join_words(words)


def test_pocketsphinx_on_a_minute_of_fluent_speech_gives_bounded_finals_and_steady_captions():
    audio, script = continuous_talk(60)
    stabilizer = Stabilizer(MAX_SECONDS, MAX_CHARACTERS)
    stream = SphinxRecognizer().open("en-US")
    forwarded, stall, last = [], 0.0, 0.0
    for offset in range(0, len(audio), 6400):  # 200 ms chunks
        stream.send(audio[offset : offset + 6400])
        sent = stabilizer.take(stream.results(), stream)
        heard = (offset + 6400) / 32000
        if sent:
            stall, last = max(stall, heard - last), heard
        forwarded += sent
    forwarded += stabilizer.take(stream.finish(5), None)
    finals = [s for s in forwarded if not s.is_partial]
    assert all(s.end - s.start <= MAX_SECONDS and len(s.text) <= MAX_CHARACTERS for s in finals)
    assert len(finals) >= 60 / MAX_SECONDS and stall <= 2.0
    assert word_error_rate(script, " ".join(s.text for s in finals)) <= 0.15


def test_segment_bounds_are_read_from_the_environment_and_nonsense_is_refused():
    env = {"AUDIO_STREAM_NAME": "audio", "MAX_SEGMENT_SECONDS": "5", "MAX_SEGMENT_CHARACTERS": "200"}
    settings = AudioSettings.from_environment(env)
    assert (settings.max_segment_seconds, settings.max_segment_characters) == (5.0, 200)
    assert AudioSettings.from_environment({"AUDIO_STREAM_NAME": "audio"}).max_segment_seconds == MAX_SECONDS
    with pytest.raises(ConfigurationError, match="MAX_SEGMENT_SECONDS"):
        AudioSettings.from_environment({**env, "MAX_SEGMENT_SECONDS": "0"})
