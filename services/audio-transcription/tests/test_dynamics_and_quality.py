"""Emotion dynamics from real signals, and when the speaker is warned about their audio."""

from __future__ import annotations

import numpy as np
import pytest

from audio_transcription.dynamics import DynamicsTracker
from audio_transcription.measurement import measure
from audio_transcription.quality import QualityMonitor
from broadcast_shared.messages.outbound import QualityIssue
from broadcast_shared.messages.segments import NEUTRAL_DYNAMICS

RATE = 16000


def pcm(signal: np.ndarray) -> bytes:
    return np.clip(signal, -32768, 32767).astype("<i2").tobytes()


def voiced(seconds: float, pitch: float = 150.0, amplitude: float = 6000.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return amplitude * (np.sin(2 * np.pi * pitch * t) + 0.5 * np.sin(2 * np.pi * 2 * pitch * t))


def syllables(seconds: float, per_second: float, amplitude: float = 8000.0) -> np.ndarray:
    """A voiced tone switched on and off per_second times: a speaking-rate stand-in."""
    t = np.arange(int(RATE * seconds)) / RATE
    gate = (np.sin(2 * np.pi * per_second * t) > 0.3).astype(float)
    return voiced(seconds, amplitude=amplitude) * gate


def feed(tracker: DynamicsTracker, signal: np.ndarray, start: float = 0.0, chunk_seconds: float = 0.1):
    size = int(RATE * chunk_seconds)
    dynamics = None
    for i in range(0, signal.size - size + 1, size):
        dynamics = tracker.add(start + i / RATE, measure(pcm(signal[i : i + size])))
    return dynamics


def test_measure_reads_level_pitch_clipping_and_bandwidth():
    tone = measure(pcm(voiced(0.2, pitch=200.0)))
    assert tone.pitch_hz == pytest.approx(200.0, rel=0.05)
    assert -20 < tone.rms_dbfs < -10 and tone.clipped_fraction == 0.0
    assert len(tone.frame_db) == 20
    clipped = measure(pcm(voiced(0.2, amplitude=60000.0)))
    assert clipped.clipped_fraction > 0.1
    noise = measure(pcm(np.random.default_rng(1).normal(0, 3000, RATE // 5)))
    assert noise.high_band_ratio > 0.3 and noise.pitch_hz is None
    assert tone.high_band_ratio < 1e-4
    silence = measure(b"\0" * 3200)
    assert silence.rms_dbfs == -96.0 and silence.pitch_hz is None


def test_louder_speech_has_higher_volume():
    quiet = feed(DynamicsTracker(), syllables(2.0, 4, amplitude=1000.0))
    loud = feed(DynamicsTracker(), syllables(2.0, 4, amplitude=16000.0))
    assert 0.0 <= quiet.volume < loud.volume <= 1.0


def test_faster_speech_has_a_higher_rate_within_bounds():
    slow = feed(DynamicsTracker(), syllables(3.0, 2))
    fast = feed(DynamicsTracker(), syllables(3.0, 7))
    assert 0.5 <= slow.rate < fast.rate <= 2.0


def test_a_varying_pitch_has_more_energy_than_a_monotone():
    monotone = feed(DynamicsTracker(), np.concatenate([voiced(0.1, 150) for _ in range(20)]))
    lively = feed(DynamicsTracker(), np.concatenate([voiced(0.1, p) for p in [110, 220, 140, 260] * 5]))
    assert lively.energy > monotone.energy


def test_silence_only_gives_the_neutral_defaults_and_spans_average():
    tracker = DynamicsTracker()
    assert feed(tracker, np.zeros(RATE)) == NEUTRAL_DYNAMICS
    feed(tracker, syllables(1.0, 4, amplitude=16000.0), start=1.0)
    assert tracker.over(1.0, 2.0).volume > tracker.over(0.0, 0.5).volume == 0.5


def monitor_run(signal: np.ndarray, monitor: QualityMonitor | None = None) -> list[QualityIssue]:
    monitor = monitor or QualityMonitor()
    found = []
    for i in range(0, signal.size - 1600 + 1, 1600):
        found += monitor.add(measure(pcm(signal[i : i + 1600])))
    return found


def test_sustained_clipping_is_warned_once_per_repeat_window():
    assert monitor_run(voiced(5.0, amplitude=60000.0)).count(QualityIssue.CLIPPING) == 1
    assert QualityIssue.CLIPPING not in monitor_run(voiced(5.0, amplitude=6000.0))


def test_five_seconds_of_silence_is_warned_and_a_short_pause_is_not():
    assert monitor_run(np.zeros(RATE * 3)) == []
    assert monitor_run(np.zeros(RATE * 6)) == [QualityIssue.SILENCE]


def test_speech_with_nothing_above_4_khz_hints_at_the_sample_rate():
    assert QualityIssue.SAMPLE_RATE in monitor_run(voiced(4.0, pitch=180.0))
    wideband = voiced(4.0) + np.random.default_rng(2).normal(0, 800, RATE * 4)
    assert QualityIssue.SAMPLE_RATE not in monitor_run(wideband)
