"""Where a sentence's time goes: the Piper talk streamed in real time through the deployed local platform.

For each final, from the moment the chunk holding the end of its audio was sent (the
speech end): the speaker's final transcript (recognition and the worker), then each
listener's final caption in es, fr and de (forwarding, translation, speech, fan-out);
the first speech byte travels in the caption's own message, so it arrives with it.
p50/p95 over every final and language; targets (issue #11): caption p95 <= 1.5 s, speech
p95 <= 2.5 s after the sentence ends.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from benchmarks.harness import stream_the_talk
from benchmarks.stats import describe
from tests.support.running_platform import serving_applied_platform

LISTENERS = ("es", "fr", "de")


def _stages(log: Path) -> dict[str, list[float]]:
    """The pipeline's own timings of each final per language (its ``final delivered`` log entries)."""
    stages: dict[str, list[float]] = {"TranslationTime": [], "SpeechTime": [], "FanOutTime": []}
    for line in log.read_text().splitlines() if log.exists() else []:
        if line.startswith("{") and '"final delivered"' in line:
            entry = json.loads(line)
            for name, samples in stages.items():
                samples.append(float(entry[name]))
    return stages


def run() -> None:
    with tempfile.TemporaryDirectory() as logs, serving_applied_platform(log_dir=Path(logs)) as stack:
        result = stream_the_talk(stack, wait_seconds=120, listeners=LISTENERS)
        stages = _stages(Path(logs) / "speech-broadcast-local-translate-segment.log")
    to_final, to_caption, to_speech, pipeline = [], [], [], []
    first_sentence: list[float] = []
    for arrived, message in result.transcripts:
        if message["isPartial"]:
            continue
        speech_end = result.speech_end(message)
        to_final.append((arrived - speech_end) * 1000)
        for language in LISTENERS:
            for heard_at, caption in result.heard.get(language, []):
                if caption.get("type") == "translation" and not caption["isPartial"]:
                    if caption["segmentId"] == message["segmentId"]:
                        to_caption.append((heard_at - speech_end) * 1000)
                        pipeline.append((heard_at - arrived) * 1000)
                        if caption.get("audio"):
                            to_speech.append((heard_at - speech_end) * 1000)
                        if message is result.finals[0]:
                            first_sentence.append((heard_at - speech_end) * 1000)
                        break
    print(f"== latency per sentence, the talk in real time through the local platform, listeners in {LISTENERS}")
    print(f"  speech end -> speaker's final transcript:   {describe(to_final)}")
    print(f"  speaker's final -> listener's caption:      {describe(pipeline)}   (forwarding, pipeline, fan-out)")
    if stages["TranslationTime"]:
        print(f"    of which translation (cache included):    {describe(stages['TranslationTime'])}")
        print(f"    of which speech synthesis:                {describe(stages['SpeechTime'])}")
        print(f"    of which fan-out to the listeners:        {describe(stages['FanOutTime'])}")
    print(f"  speech end -> listener's final caption:     {describe(to_caption)}   (target p95 <= 1500 ms)")
    print(f"  speech end -> listener's first speech byte: {describe(to_speech)}   (target p95 <= 2500 ms)")
    if first_sentence:
        print(f"  first sentence, speech end -> caption:      {max(first_sentence):.0f} ms at the slowest language")
