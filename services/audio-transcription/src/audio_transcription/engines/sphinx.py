"""The local engine: pocketsphinx (English), its endpointer deciding where utterances end.

pocketsphinx gives a new partial hypothesis as audio arrives but no stability, so it
is computed the way Transcribe's partial-results stabilisation behaves: a word is
stable once it, and every word before it, has been the same in the last
``agreement`` hypotheses, and it is not the hypothesis's last word. pocketsphinx is a
development dependency only; it is not in the Lambda artifact.
"""

from __future__ import annotations

import re
import threading

from audio_transcription.engines import Recognition, UnsupportedLanguage, Word
from audio_transcription.settings import BYTES_PER_SAMPLE, SAMPLE_RATE

FRAME_SECONDS = 0.01
#: the endpointer's window: an utterance ends once nearly all of it is non-speech. 0.2 s (the
#: shortest it allows with 30 ms frames; the default is 0.3 s) ends some utterances in the 0.2 s
#: pauses a fluent speaker leaves between sentences. A stricter voice activity detector ends more
#: of them but clips words: word error rate 0.08 instead of 0.03 on the test talk.
END_WINDOW_SECONDS = 0.2
FILLER = re.compile(r"^(<s>|</s>|<sil>|\[.*\]|\+\+.*\+\+)$")
ALTERNATIVE = re.compile(r"\(\d+\)$")


class SphinxRecognizer:
    """Opens a decoder per stream; :meth:`prepare` builds the next one ahead (loading the model takes
    about 0.35 s), so a session's first audio does not wait for it."""

    def __init__(self, agreement: int = 3) -> None:
        self._agreement = agreement
        self._lock = threading.Lock()
        self._ready: SphinxStream | None = None

    def prepare(self, language: str) -> None:
        """Build the next stream's decoder, unless one is already waiting (a second warm-up builds nothing)."""
        if not language.startswith("en"):
            return
        with self._lock:
            if self._ready is not None:
                return
        stream = SphinxStream(self._agreement)
        with self._lock:
            self._ready = self._ready or stream

    def open(self, language: str) -> SphinxStream:
        if not language.startswith("en"):
            raise UnsupportedLanguage(f"pocketsphinx recognises English only, not {language}")
        with self._lock:
            ready, self._ready = self._ready, None
        return ready or SphinxStream(self._agreement)


class SphinxStream:
    def __init__(self, agreement: int) -> None:
        from pocketsphinx import Decoder, Endpointer

        self._endpointer = Endpointer(window=END_WINDOW_SECONDS, sample_rate=SAMPLE_RATE)
        self._decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self._agreement = agreement
        self._pending = b""
        self._results: list[Recognition] = []
        self._utterance = 0
        self._utterance_start = 0.0
        #: the audio the decoder has of the current utterance, for a restart at a cut
        self._audio = bytearray()
        self._recent: list[list[str]] = []
        self._in_utterance = False

    def send(self, pcm: bytes) -> None:
        data = self._pending + pcm
        size = self._endpointer.frame_bytes
        usable = len(data) // size * size
        self._pending = data[usable:]
        for offset in range(0, usable, size):
            self._frame(self._endpointer.process(data[offset : offset + size]))
        if self._in_utterance:
            self._partial()

    def results(self) -> list[Recognition]:
        results, self._results = self._results, []
        return results

    def finish(self, timeout: float) -> list[Recognition]:
        # The endpointer's last frame must hold at least a sample: audio that ended on a frame boundary (every
        # three 200 ms chunks) gets one sample of silence, which flushes the speech it still holds.
        self._frame(self._endpointer.end_stream(self._pending or b"\0" * BYTES_PER_SAMPLE))
        self._pending = b""
        if self._in_utterance:
            self._end_utterance()
        return self.results()

    def abort(self) -> None:
        self._pending = b""
        self._in_utterance = False

    def cut(self, result_id: str, at: float) -> bool:
        """End the utterance at ``at`` without a final and decode the audio after it as the next one.

        The decoder may still revise words it has given, so the words the platform closed
        must leave the search: the next utterance starts from their end. This also keeps
        the decoder's work per second of audio flat however long the speaker goes on.
        """
        if not self._in_utterance or result_id != f"u{self._utterance}" or at <= self._utterance_start:
            return False
        rest = bytes(self._audio[round((at - self._utterance_start) * SAMPLE_RATE) * BYTES_PER_SAMPLE :])
        self._decoder.end_utt()
        self._start_utterance(at)
        self._decode(rest)
        return True

    def _frame(self, speech: bytes | None) -> None:
        if speech is None:
            return
        if not self._in_utterance:
            self._start_utterance(self._endpointer.speech_start)
        self._decode(speech)
        if not self._endpointer.in_speech:
            self._end_utterance()

    def _start_utterance(self, start: float) -> None:
        self._in_utterance = True
        self._utterance += 1
        self._utterance_start = start
        self._audio = bytearray()
        self._recent = []
        self._decoder.start_utt()

    def _decode(self, speech: bytes) -> None:
        self._audio += speech
        self._decoder.process_raw(speech)

    def _end_utterance(self) -> None:
        self._decoder.end_utt()
        self._in_utterance = False
        words = tuple(Word(text, start, end, stable=True) for text, start, end in self._words())
        end = words[-1].end if words else self._endpointer.speech_end
        self._results.append(
            Recognition(
                result_id=f"u{self._utterance}",
                text=" ".join(w.text for w in words),
                is_partial=False,
                start=self._utterance_start,
                end=max(end, self._utterance_start),
                words=words,
            )
        )

    def _partial(self) -> None:
        if self._decoder.hyp() is None:
            return
        timed = self._words()
        tokens = [text for text, _, _ in timed]
        self._recent = [*self._recent[-(self._agreement - 1) :], tokens]
        if not tokens:
            return
        stable_count = 0
        if len(self._recent) == self._agreement:
            for i, token in enumerate(tokens[:-1]):
                if all(len(h) > i and h[i] == token for h in self._recent):
                    stable_count = i + 1
                else:
                    break
        words = tuple(Word(text, start, end, stable=i < stable_count) for i, (text, start, end) in enumerate(timed))
        self._results.append(
            Recognition(
                result_id=f"u{self._utterance}",
                text=" ".join(tokens),
                is_partial=True,
                start=self._utterance_start,
                end=self._utterance_start + self._decoder.n_frames() * FRAME_SECONDS,
                words=words,
            )
        )

    def _words(self) -> list[tuple[str, float, float]]:
        """The current hypothesis's words with their times in the stream (fillers and silences left out)."""
        return [
            (
                ALTERNATIVE.sub("", segment.word),
                self._utterance_start + segment.start_frame * FRAME_SECONDS,
                self._utterance_start + (segment.end_frame + 1) * FRAME_SECONDS,
            )
            for segment in self._decoder.seg()
            if not FILLER.match(segment.word)
        ]
