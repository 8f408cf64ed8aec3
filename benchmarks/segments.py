"""Continuous speech: bounded segments and captions that keep flowing (issue #16).

A speaker who hardly pauses (the Piper test talk over and over, 0.2 s after each sentence
and between copies) for 10 minutes, fed in 200 ms chunks to the local recogniser
(pocketsphinx) and the platform's stabiliser/segmenter, in-process, as the worker does:
- finals per minute of speech, the longest final (characters and seconds of audio);
- the longest caption stall: seconds of audio between two consecutive updates
  (partial or final) while the speaker talks;
- the recogniser's real-time factor (processing seconds per second of audio) per minute,
  first against last: flat means a long utterance does not slow it down;
- the word error rate of the finals against the script (words lost or duplicated at
  the cuts would show here).
"""

from __future__ import annotations

import time

from audio_transcription.engines.sphinx import SphinxRecognizer
from audio_transcription.settings import AudioSettings
from audio_transcription.stabilizer import Stabilizer
from broadcast_tools.speech import continuous_talk, word_error_rate

SECONDS = 600
CHUNK_SECONDS = 0.2
CHUNK_BYTES = int(32000 * CHUNK_SECONDS)


def run() -> None:
    audio, script = continuous_talk(SECONDS)
    defaults = AudioSettings(audio_stream_name="bench")
    stabilizer = Stabilizer(defaults.max_segment_seconds, defaults.max_segment_characters)
    stream = SphinxRecognizer().open("en-US")
    finals, last_update, stall = [], 0.0, 0.0
    per_minute: list[float] = []
    minute_started = time.process_time()
    for index, offset in enumerate(range(0, len(audio), CHUNK_BYTES), 1):
        stream.send(audio[offset : offset + CHUNK_BYTES])
        forwarded = stabilizer.take(stream.results(), stream)
        heard = (offset + CHUNK_BYTES) / 32000
        if forwarded:
            stall, last_update = max(stall, heard - last_update), heard
        finals += [s for s in forwarded if not s.is_partial]
        if index % round(60 / CHUNK_SECONDS) == 0:
            per_minute.append((time.process_time() - minute_started) / 60)
            minute_started = time.process_time()
    finals += [s for s in stabilizer.take(stream.finish(5), None) if not s.is_partial]
    longest = max(finals, key=lambda s: len(s.text))
    spoken = " ".join(s.text for s in finals)
    print(f"== continuous speech: {len(audio) / 32000:.0f} s without a pause over 0.2 s, pocketsphinx + segmenter")
    print(
        f"  finals: {len(finals)} ({len(finals) / (SECONDS / 60):.1f} per minute)   "
        f"longest final: {len(longest.text)} characters, "
        f"{max(s.end - s.start for s in finals):.1f} s of audio (bound {defaults.max_segment_seconds:g} s, "
        f"{defaults.max_segment_characters} characters)"
    )
    print(f"  longest caption stall while speaking: {stall:.1f} s of audio")
    print(
        f"  recogniser real-time factor per minute: first {per_minute[0]:.3f}, last {per_minute[-1]:.3f}, "
        f"max {max(per_minute):.3f}"
    )
    print(f"  word error rate of the finals against the script: {word_error_rate(script, spoken):.3f}")
