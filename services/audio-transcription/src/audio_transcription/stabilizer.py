"""Partial results, stabilised and bounded: the one step both engines' results go through.

Stabilised: a partial result is forwarded only when its stable prefix (the words the
engine will not revise) has grown and still begins with what was sent before; the
text forwarded is that prefix, so text already sent never changes until the final
replaces it. A final result is always forwarded, once; nothing is forwarded for a
result after its final.

Bounded: an engine ends a result only where it hears an endpoint (a pause), and a
fluent speaker may not leave one for minutes. So the platform closes a segment
itself once the audio it spans passes ``max_seconds`` or its text ``max_characters``:
it sends a final made of stable words only, cut at a word boundary that keeps the
final within both bounds (the latest sentence end there, else the longest pause
between words, else the last stable word), and the rest of the engine's result goes
on as the next segment (``<result>-2``, ``-3``…). An engine whose words can still
change (pocketsphinx) restarts its utterance at the cut instead (see
:meth:`take`); the rest then arrives as a result of its own. A final result too long
for one segment is split the same way, into several finals, in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from audio_transcription.engines import Recognition, RecognizerStream, Word, join_words
from broadcast_shared.languages import SENTENCE_ENDS

#: a silence between two words at least this long is a pause worth cutting at
MIN_PAUSE_SECONDS = 0.1


@dataclass(frozen=True)
class StableText:
    #: the segment: the engine's result id, with ``-2``, ``-3``… for the segments the platform cut from it
    segment_id: str
    text: str
    is_partial: bool
    #: the share of the result's words that are stable (1.0 for a final)
    stability: float
    start: float
    end: float
    #: a final the platform closed while the engine's result goes on
    cut: bool = False


@dataclass
class _Progress:
    """One engine result: how many of its words are closed in finals, and the open segment."""

    start: float
    closed: int = 0
    piece: int = 1
    sent: tuple[Word, ...] = ()


class Stabilizer:
    def __init__(self, max_seconds: float = 8.0, max_characters: int = 400) -> None:
        self._max_seconds = max_seconds
        self._max_characters = max_characters
        self._open: dict[str, _Progress] = {}
        self._finished: set[str] = set()

    def take(self, results: Iterable[Recognition], stream: RecognizerStream | None) -> list[StableText]:
        """What to forward for ``results``, in order; tells ``stream`` (if still open) where segments were cut.

        Results that arrive together (a worker catching up reads many chunks at once) forward only a
        segment's latest partial, or its final: a partial already replaced by a later one is never sent.
        """
        forwarded = []
        for recognition in results:
            for stable in self.accept(recognition):
                forwarded.append(stable)
                if stable.cut and stream is not None and stream.cut(recognition.result_id, stable.end):
                    # The engine restarted its utterance at the cut: the rest comes as a new result.
                    self._open.pop(recognition.result_id, None)
                    self._finished.add(recognition.result_id)
        latest = {stable.segment_id: index for index, stable in enumerate(forwarded)}
        return [s for index, s in enumerate(forwarded) if not s.is_partial or latest[s.segment_id] == index]

    def accept(self, recognition: Recognition) -> list[StableText]:
        result_id = recognition.result_id
        if result_id in self._finished:
            return []
        progress = self._open.setdefault(result_id, _Progress(recognition.start))
        rest = (recognition.words or _words_of(recognition))[progress.closed :]
        if not recognition.is_partial:
            self._finished.add(result_id)
            del self._open[result_id]
            return self._finals(result_id, progress, rest, recognition.end)
        prefix = _stable_prefix(rest)
        sent = progress.sent
        if self._passed_bound(progress.start, recognition.end, rest):
            # The final takes at least the words its partials showed (they are still the result's
            # first words even if the engine has not confirmed them again): captions never shrink.
            shown = _texts(rest[: len(sent)]) == _texts(sent)
            stable = rest[: max(len(prefix), len(sent))] if shown else prefix
            if stable:
                count = self._cut_point(progress.start, stable, rest, max(len(sent), 1) if shown else 1)
                return [self._close(result_id, progress, rest[:count], stable[count - 1].end, cut=True)]
        if any(new.text != old.text for new, old in zip(prefix, sent, strict=False)):
            # The engine revised a word the listeners already see (pocketsphinx may; Transcribe's stable
            # words never change): nothing more would be forwarded until the result ends, so the
            # segment is closed with what was shown and the engine goes on after it.
            return [self._close(result_id, progress, sent, sent[-1].end, cut=True)]
        if len(prefix) <= len(sent):
            return []
        progress.sent = tuple(prefix)
        spoken = [w for w in rest if not w.punctuation]
        stability = sum(1 for w in prefix if not w.punctuation) / max(len(spoken), 1)
        return [
            StableText(
                _segment_id(result_id, progress.piece),
                join_words(prefix),
                True,
                round(stability, 3),
                progress.start,
                prefix[-1].end,
            )
        ]

    def _finals(self, result_id: str, progress: _Progress, rest: tuple[Word, ...], end: float) -> list[StableText]:
        if not rest:
            # Everything was closed already; a segment whose partials went out still gets its final.
            return [self._close(result_id, progress, progress.sent, end)] if progress.sent else []
        finals = []
        shown = len(progress.sent) if _texts(rest[: len(progress.sent)]) == _texts(progress.sent) else 1
        while self._passed_bound(progress.start, max(end, rest[-1].end), rest) and len(rest) > max(shown, 1):
            count = self._cut_point(progress.start, rest[:-1], rest, max(shown, 1))
            finals.append(self._close(result_id, progress, rest[:count], rest[count - 1].end))
            rest, shown = rest[count:], 1
        finals.append(self._close(result_id, progress, rest, max(end, rest[-1].end)))
        return finals

    def _close(
        self, result_id: str, progress: _Progress, words: Iterable[Word], end: float, cut: bool = False
    ) -> StableText:
        words = tuple(words)
        final = StableText(
            _segment_id(result_id, progress.piece), join_words(words), False, 1.0, progress.start, end, cut
        )
        progress.closed += len(words)
        progress.piece += 1
        progress.start = end
        progress.sent = ()
        return final

    def _passed_bound(self, start: float, end: float, words: tuple[Word, ...]) -> bool:
        return end - start > self._max_seconds or len(join_words(words)) > self._max_characters

    def _cut_point(self, start: float, stable: tuple[Word, ...], words: tuple[Word, ...], least: int) -> int:
        """How many of the ``stable`` words (at least ``least``) the closed segment takes."""
        fitting = [
            count
            for count in range(least, len(stable) + 1)
            if stable[count - 1].end - start <= self._max_seconds
            and len(join_words(stable[:count])) <= self._max_characters
            and not (count < len(words) and words[count].punctuation)
        ]
        if not fitting:
            return least
        # Prefer a cut that leaves a segment of a useful length: at least half the bound.
        long_enough = [
            count
            for count in fitting
            if stable[count - 1].end - start >= self._max_seconds / 2
            or len(join_words(stable[:count])) >= self._max_characters / 2
        ] or fitting
        sentence_ends = [count for count in long_enough if stable[count - 1].text.endswith(SENTENCE_ENDS)]
        if sentence_ends:
            return sentence_ends[-1]
        pauses = [(_pause_after(words, count), count) for count in long_enough if count < len(words)]
        pause, count = max(pauses, default=(0.0, 0))
        return count if pause >= MIN_PAUSE_SECONDS else long_enough[-1]


def _segment_id(result_id: str, piece: int) -> str:
    return result_id if piece == 1 else f"{result_id}-{piece}"


def _pause_after(words: tuple[Word, ...], count: int) -> float:
    return words[count].start - words[count - 1].end


def _texts(words: Iterable[Word]) -> tuple[str, ...]:
    return tuple(w.text for w in words)


def _stable_prefix(words: tuple[Word, ...]) -> tuple[Word, ...]:
    count = 0
    while count < len(words) and words[count].stable:
        count += 1
    return words[:count]


def _words_of(recognition: Recognition) -> tuple[Word, ...]:
    """A result that came without word timings: its words spread evenly over its span."""
    texts = recognition.text.split()
    span = (recognition.end - recognition.start) / max(len(texts), 1)
    return tuple(
        Word(text, recognition.start + i * span, recognition.start + (i + 1) * span, not recognition.is_partial)
        for i, text in enumerate(texts)
    )
