"""A scripted recogniser: replays a timed transcript, timed to the audio it receives (local load runs).

Each stream plays :data:`SCRIPT` from its own start, over and over: the words of a sentence
are heard one every :data:`WORD_SECONDS` of the audio the stream has received, a partial
result (its words stable but the last two, as pocketsphinx's agreement gives them) follows
every piece of audio sent during a sentence, and the final once the audio has passed the
sentence's end by :data:`ENDPOINT_SECONDS` (pocketsphinx's endpointer window and a frame).
It costs next to no CPU, so a load run on a small machine measures the platform rather than
the recogniser; what the audio says is ignored. Selected with ``TRANSCRIPTION_ENGINE=scripted``
(``audio.transcription_engine`` in Terraform); pocketsphinx stays the local default.
"""

from __future__ import annotations

from dataclasses import dataclass

from audio_transcription.engines import Recognition, Word
from audio_transcription.settings import pcm_seconds

#: the Piper test talk's sentences (broadcast_tools.speech.TALK), as pocketsphinx gives words: lower case, unpunctuated
SCRIPT = (
    "good morning everyone and welcome to the meeting",
    "today we will talk about the new project and the plan for next year",
    "the team has worked very hard and we have many good results to share with you",
    "first we will look at the numbers",
    "then we will answer your questions",
    "thank you for coming and please ask questions at the end",
)
#: a fluent speaker's pace (the Piper voice speaks the talk at about this)
WORD_SECONDS = 0.38
#: the silence after each sentence
PAUSE_SECONDS = 0.6
#: how long after a sentence's audio ends its final is given
ENDPOINT_SECONDS = 0.3
#: the words at the end of a partial that are not stable yet
UNSTABLE_WORDS = 2


@dataclass(frozen=True)
class TimedSentence:
    text: str
    start: float
    end: float

    def words(self, upto: float) -> tuple[Word, ...]:
        """The sentence's words heard by ``upto`` seconds into its script round; stable but the last two."""
        texts = self.text.split()
        heard = [
            (text, self.start + i * WORD_SECONDS, self.start + (i + 1) * WORD_SECONDS)
            for i, text in enumerate(texts)
            if self.start + i * WORD_SECONDS < upto
        ]
        stable = len(texts) if upto >= self.end else len(heard) - UNSTABLE_WORDS
        return tuple(Word(text, start, end, stable=i < stable) for i, (text, start, end) in enumerate(heard))


def timed_script(script: tuple[str, ...] = SCRIPT) -> tuple[tuple[TimedSentence, ...], float]:
    """The script's sentences with their times in one round, and the round's length in seconds."""
    sentences = []
    at = 0.0
    for text in script:
        end = at + len(text.split()) * WORD_SECONDS
        sentences.append(TimedSentence(text, at, end))
        at = end + PAUSE_SECONDS
    return tuple(sentences), at


def finals_within(seconds: float, script: tuple[str, ...] = SCRIPT) -> int:
    """How many finals a stream given ``seconds`` of audio (and then closed) gives."""
    sentences, round_seconds = timed_script(script)
    rounds, rest = divmod(seconds, round_seconds)
    return int(rounds) * len(sentences) + sum(1 for s in sentences if s.start < rest)


class ScriptedRecognizer:
    def __init__(self, script: tuple[str, ...] = SCRIPT) -> None:
        self._script = script

    def prepare(self, language: str) -> None:
        """Nothing to load."""

    def open(self, language: str) -> ScriptedStream:
        return ScriptedStream(self._script)


class ScriptedStream:
    def __init__(self, script: tuple[str, ...]) -> None:
        self._sentences, self._round = timed_script(script)
        #: seconds of audio received
        self._heard = 0.0
        #: the next sentence to finish, counted over every round
        self._next = 0
        self._results: list[Recognition] = []

    def send(self, pcm: bytes) -> None:
        self._heard += pcm_seconds(pcm)
        while self._heard >= self._end(self._next) + ENDPOINT_SECONDS:
            self._results.append(self._result(self._next, partial=False))
            self._next += 1
        if self._heard > self._start(self._next):
            self._results.append(self._result(self._next, partial=True))

    def results(self) -> list[Recognition]:
        results, self._results = self._results, []
        return results

    def finish(self, timeout: float) -> list[Recognition]:
        """The audio ended: the sentence being spoken ends with what was heard of it."""
        if self._heard > self._start(self._next):
            self._results.append(self._result(self._next, partial=False))
            self._next += 1
        return self.results()

    def abort(self) -> None:
        self._results = []

    def cut(self, result_id: str, at: float) -> bool:
        """The script's sentences go on after a cut: the platform's segments follow the result."""
        return False

    def _sentence(self, index: int) -> tuple[TimedSentence, float]:
        rounds, position = divmod(index, len(self._sentences))
        return self._sentences[position], rounds * self._round

    def _start(self, index: int) -> float:
        sentence, offset = self._sentence(index)
        return offset + sentence.start

    def _end(self, index: int) -> float:
        sentence, offset = self._sentence(index)
        return offset + sentence.end

    def _result(self, index: int, partial: bool) -> Recognition:
        sentence, offset = self._sentence(index)
        heard = self._heard - offset
        words = tuple(
            Word(w.text, offset + w.start, offset + w.end, stable=w.stable or not partial)
            for w in sentence.words(heard)
        )
        return Recognition(
            result_id=f"s{index + 1}",
            text=" ".join(w.text for w in words),
            is_partial=partial,
            start=offset + sentence.start,
            end=words[-1].end if words else offset + sentence.start,
            words=words,
        )
