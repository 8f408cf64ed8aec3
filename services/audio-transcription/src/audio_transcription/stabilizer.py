"""Partial results, stabilised: text already sent never changes until the final replaces it.

A partial result is forwarded only when its stable prefix (the words the engine will
not revise) has grown and still begins with what was sent before; the text forwarded
is that prefix. A final result is always forwarded, once. Nothing is forwarded for a
result after its final.
"""

from __future__ import annotations

from dataclasses import dataclass

from audio_transcription.engines import Recognition, Word, join_words


@dataclass(frozen=True)
class StableText:
    result_id: str
    text: str
    is_partial: bool
    #: the share of the result's words that are stable (1.0 for a final)
    stability: float
    start: float
    end: float


class Stabilizer:
    def __init__(self) -> None:
        self._sent: dict[str, tuple[str, ...]] = {}
        self._finished: set[str] = set()

    def accept(self, recognition: Recognition) -> StableText | None:
        result_id = recognition.result_id
        if result_id in self._finished:
            return None
        if not recognition.is_partial:
            self._finished.add(result_id)
            self._sent.pop(result_id, None)
            return StableText(result_id, recognition.text, False, 1.0, recognition.start, recognition.end)
        prefix = _stable_prefix(recognition.words)
        sent = self._sent.get(result_id, ())
        tokens = tuple(w.text for w in prefix)
        if len(tokens) <= len(sent) or tokens[: len(sent)] != sent:
            return None
        self._sent[result_id] = tokens
        spoken = [w for w in recognition.words if not w.punctuation]
        stability = sum(1 for w in prefix if not w.punctuation) / max(len(spoken), 1)
        return StableText(result_id, join_words(prefix), True, round(stability, 3), recognition.start, prefix[-1].end)


def _stable_prefix(words: tuple[Word, ...]) -> list[Word]:
    prefix = []
    for word in words:
        if not word.stable:
            break
        prefix.append(word)
    return prefix
