"""Order, duplicates and gaps; stabilisation rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from audio_transcription.engines import Recognition, Word
from audio_transcription.sequencing import Sequencer, SequenceReport
from audio_transcription.stabilizer import Stabilizer, StableText


@given(st.permutations(range(12)), st.lists(st.integers(0, 11), max_size=6))
def test_any_arrival_order_within_the_window_is_released_in_order_exactly_once(order, repeats):
    sequencer: Sequencer[int] = Sequencer(0, window=12, max_wait=2.0)
    report = SequenceReport()
    released = []
    for sequence in [*order, *repeats]:
        released += sequencer.push(sequence, sequence, report)
    assert released == list(range(12))
    assert sorted(report.duplicates) == sorted(repeats)
    assert report.gaps == [] and report.late == []


def test_a_missing_chunk_becomes_a_gap_once_the_window_fills_and_its_late_arrival_is_reported():
    sequencer: Sequencer[int] = Sequencer(0, window=2, max_wait=60.0)
    report = SequenceReport()
    released = [item for s in (0, 2, 3) for item in sequencer.push(s, s, report)]
    assert released == [0] and report.gaps == []
    released += sequencer.push(4, 4, report)  # three held: the window (2) is exceeded
    assert released == [0, 2, 3, 4] and report.gaps == [range(1, 2)]
    assert sequencer.push(1, 1, report) == [] and report.late == [1]
    assert sequencer.push(1, 1, report) == [] and report.duplicates == [1]


def test_a_missing_chunk_is_waited_for_up_to_max_wait_seconds():
    sequencer: Sequencer[int] = Sequencer(0, window=64, max_wait=2.0)
    report = SequenceReport()
    assert sequencer.push(1, 1, report) == [] and sequencer.expire(10.0, report) == []
    assert sequencer.push(2, 2, report) == [] and sequencer.expire(11.9, report) == []
    assert sequencer.push(0, 0, report) == [0, 1, 2]  # arrived in time: no gap
    assert sequencer.push(4, 4, report) == [] and sequencer.expire(20.0, report) == []
    assert sequencer.expire(21.0, report) == [] and sequencer.expire(22.0, report) == [4]
    assert report.gaps == [range(3, 4)]


def test_a_missing_chunk_later_in_the_same_batch_is_not_declared_a_gap():
    sequencer: Sequencer[int] = Sequencer(0, window=64, max_wait=2.0)
    report = SequenceReport()
    assert sequencer.push(1, 1, report) == [] and sequencer.expire(10.0, report) == []
    # Past the wait, one batch brings chunk 2 and then the missing chunk 0 (its sendAudio was slower than the next two).
    released = sequencer.push(2, 2, report) + sequencer.push(0, 0, report) + sequencer.expire(12.5, report)
    assert released == [0, 1, 2]
    assert report.gaps == [] and report.late == []


def test_flush_releases_everything_held_declaring_the_gaps():
    sequencer: Sequencer[int] = Sequencer(5, window=8, max_wait=2.0)
    report = SequenceReport()
    assert sequencer.push(7, 7, report) == [] and sequencer.push(9, 9, report) == []
    assert sequencer.flush(report) == [7, 9] and report.gaps == [range(5, 7), range(8, 9)]


def test_a_jump_beyond_the_window_is_a_gap_declared_at_once_in_constant_memory():
    sequencer: Sequencer[int] = Sequencer(0, window=8, max_wait=60.0)
    report = SequenceReport()
    released = [item for s in (0, 2) for item in sequencer.push(s, s, report)]
    huge = 2**53 - 1
    released += sequencer.push(huge, huge, report)  # a MemoryError before the bound
    assert released == [0, 2, huge]
    assert report.gaps == [range(1, 2), range(3, huge)] and report.missing_count == huge - 2
    assert sequencer.next_expected == huge + 1 and len(sequencer._declared_missing) <= 8
    assert sequencer.push(huge - 1, 0, report) == [] and report.late == [huge - 1]
    assert sequencer.push(5, 0, report) == [] and report.duplicates == [5]


def partial(result_id: str, *words: tuple[str, bool]) -> Recognition:
    return Recognition(
        result_id,
        " ".join(w for w, _ in words),
        True,
        0.0,
        float(len(words)),
        tuple(Word(w, i, i + 1, stable) for i, (w, stable) in enumerate(words)),
    )


def forwarded(stabilizer: Stabilizer, recognition: Recognition) -> StableText | None:
    (stable,) = stabilizer.accept(recognition) or (None,)
    return stable


def test_partials_are_forwarded_only_when_the_stable_prefix_grows():
    stabilizer = Stabilizer()
    assert forwarded(stabilizer, partial("a", ("hello", False))) is None
    first = forwarded(stabilizer, partial("a", ("hello", True), ("word", False)))
    assert (first.text, first.is_partial, first.stability) == ("hello", True, 0.5)
    assert forwarded(stabilizer, partial("a", ("hello", True), ("world", False))) is None  # no growth
    second = forwarded(stabilizer, partial("a", ("hello", True), ("world", True), ("again", False)))
    assert second.text == "hello world"


def test_text_already_sent_never_flickers_a_revision_closes_the_segment_with_what_was_shown():
    stabilizer = Stabilizer()
    stabilizer.accept(partial("a", ("hello", True), ("world", True)))
    # The engine revised a shown word: the listeners keep what they saw, as the segment's final.
    closed = forwarded(stabilizer, partial("a", ("yellow", True), ("world", True), ("now", True)))
    assert (closed.segment_id, closed.text, closed.is_partial, closed.cut) == ("a", "hello world", False, True)
    going_on = forwarded(stabilizer, partial("a", ("yellow", True), ("world", True), ("now", True), ("on", False)))
    assert (going_on.segment_id, going_on.text, going_on.is_partial) == ("a-2", "now", True)


def test_a_final_is_forwarded_once_and_nothing_after_it():
    stabilizer = Stabilizer()
    stabilizer.accept(partial("a", ("hello", True), ("word", False)))
    final = Recognition("a", "hello world.", False, 0.0, 2.0, ())
    sent = forwarded(stabilizer, final)
    assert (sent.segment_id, sent.text, sent.is_partial, sent.stability) == ("a", "hello world.", False, 1.0)
    assert forwarded(stabilizer, final) is None
    assert forwarded(stabilizer, partial("a", ("hello", True), ("world", True), ("more", True))) is None
    assert forwarded(stabilizer, partial("b", ("next", True), ("one", False))).text == "next"


def test_punctuation_attaches_to_its_word():
    stabilizer = Stabilizer()
    words = (Word("Hello", 0, 1, True), Word(",", 1, 1, True, punctuation=True), Word("you", 1, 2, False))
    assert forwarded(stabilizer, Recognition("a", "Hello, you", True, 0, 2, words)).text == "Hello,"
