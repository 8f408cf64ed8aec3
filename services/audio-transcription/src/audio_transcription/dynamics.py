"""Emotion dynamics: what a chunk of speech sounds like, and how a session's speech moves.

``measure`` (:mod:`audio_transcription.measurement`, numpy) runs in ``sendAudio`` on every
chunk (it is stateless: chunks of one session may land on different execution environments)
and the chunk carries its :class:`~audio_transcription.chunks.ChunkMeasurement` on the stream.
``DynamicsTracker`` runs in the transcription worker, which sees a session's chunks in order, and smooths
the measurements into :class:`EmotionDynamics` for the spans of audio segments cover. It is plain Python
over a few hundred numbers per chunk, so the worker never imports numpy (about 35 ms of its cold start).

Mapping (documented in docs/ARCHITECTURE.md):

* volume = (RMS dBFS + 50) / 40, clipped to 0..1: -30 dBFS is 0.5, -10 dBFS is 1.0.
* rate = syllable-like peaks per second in the 10 ms energy envelope over the last
  two seconds, divided by 4 (an average speaking rate), clipped to 0.5..2.0.
* energy = the mean of volume and pitch spread (standard deviation of the voiced
  pitch over the last two seconds in semitones, / 6), clipped to 0..1.

A chunk that cannot be measured (too short, silent) leaves the smoothed values where
they were; a session with no measurement at all gets the neutral defaults.
"""

from __future__ import annotations

import math
import statistics
from collections import deque

from audio_transcription.chunks import SILENCE_DBFS, VOICED_DBFS, ChunkMeasurement
from broadcast_shared.messages.segments import NEUTRAL_DYNAMICS, EmotionDynamics

#: the speaking-rate envelope's smoothing: a moving mean over this many 10 ms frames
SMOOTHING_FRAMES = 5


class DynamicsTracker:
    """One session's smoothed dynamics, fed its chunks in order by the worker."""

    WINDOW_SECONDS = 2.0
    ALPHA = 0.3

    def __init__(self) -> None:
        self._envelope: deque[float] = deque(maxlen=int(self.WINDOW_SECONDS * 100))
        self._pitches: deque[float] = deque(maxlen=int(self.WINDOW_SECONDS * 10))
        self._volume: float | None = None
        self._energy: float | None = None
        self._history: deque[tuple[float, float, EmotionDynamics]] = deque(maxlen=600)

    def add(self, start: float, measurement: ChunkMeasurement) -> EmotionDynamics:
        """Fold in the chunk that starts at ``start`` seconds; return the smoothed dynamics."""
        self._envelope.extend(measurement.frame_db)
        if measurement.pitch_hz:
            self._pitches.append(measurement.pitch_hz)
        if measurement.rms_dbfs > SILENCE_DBFS + 1 and measurement.duration > 0:
            volume = _clip((measurement.rms_dbfs + 50.0) / 40.0, 0.0, 1.0)
            self._volume = volume if self._volume is None else self._smooth(self._volume, volume)
            energy = self._energy_now(volume)
            self._energy = energy if self._energy is None else self._smooth(self._energy, energy)
        current = self.current()
        self._history.append((start, start + measurement.duration, current))
        return current

    def current(self) -> EmotionDynamics:
        if self._volume is None:
            return NEUTRAL_DYNAMICS
        return EmotionDynamics(volume=self._volume, rate=self._rate(), energy=self._energy or 0.5)

    def over(self, start: float, end: float) -> EmotionDynamics:
        """The mean dynamics of the chunks overlapping ``start``..``end`` seconds."""
        spans = [d for s, e, d in self._history if e > start and s < end]
        if not spans:
            return self.current()
        return EmotionDynamics(
            volume=statistics.fmean(d.volume for d in spans),
            rate=statistics.fmean(d.rate for d in spans),
            energy=statistics.fmean(d.energy for d in spans),
        )

    def _smooth(self, previous: float, value: float) -> float:
        return (1 - self.ALPHA) * previous + self.ALPHA * value

    def _energy_now(self, volume: float) -> float:
        if len(self._pitches) < 2:
            return volume
        median = statistics.median(self._pitches)
        semitones = [12.0 * math.log2(pitch / median) for pitch in self._pitches]
        spread = _clip(statistics.pstdev(semitones) / 6.0, 0.0, 1.0)
        return _clip((volume + spread) / 2.0, 0.0, 1.0)

    def _rate(self) -> float:
        """Syllable-like peaks: local maxima at least 6 dB above the window's floor, 100 ms apart."""
        if len(self._envelope) < 50:
            return 1.0
        envelope = _moving_mean(list(self._envelope), SMOOTHING_FRAMES)
        floor = statistics.quantiles(envelope, n=5, method="inclusive")[0]  # the 20th percentile
        if max(envelope) < VOICED_DBFS:
            return 1.0
        peaks, last = 0, -10
        for i in range(1, len(envelope) - 1):
            is_peak = envelope[i] >= envelope[i - 1] and envelope[i] > envelope[i + 1]
            if is_peak and envelope[i] > floor + 6.0 and envelope[i] > VOICED_DBFS and i - last >= 10:
                peaks, last = peaks + 1, i
        per_second = peaks / (len(envelope) / 100.0)
        return _clip(per_second / 4.0, 0.5, 2.0)


def _clip(value: float, low: float, high: float) -> float:
    return min(max(float(value), low), high)


def _moving_mean(values: list[float], width: int) -> list[float]:
    """The mean of each value's ``width`` neighbours centred on it, the edges padded with zeros (numpy's
    ``convolve(values, ones(width) / width, mode="same")``). Equal windows give equal means: the envelope arrives
    in 0.1 dB steps, so plateaus are common, and a peak on one is its last frame (numpy's order of additions left
    ripples of 1e-14 dB on them that moved it by a frame or so)."""
    half = width // 2
    padded = [0.0] * half + values + [0.0] * (width - 1 - half)
    return [sum(padded[i : i + width]) / width for i in range(len(values))]
