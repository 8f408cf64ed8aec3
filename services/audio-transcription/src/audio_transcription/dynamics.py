"""Emotion dynamics: what a chunk of speech sounds like, measured with numpy.

``measure`` runs in ``sendAudio`` on every chunk (it is stateless: chunks of one
session may land on different execution environments). ``DynamicsTracker`` runs in
the transcription worker, which sees a session's chunks in order, and smooths the
measurements into :class:`EmotionDynamics` for the spans of audio segments cover.

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

from collections import deque
from typing import Annotated

import numpy as np
from pydantic import Field, PlainSerializer

from audio_transcription.settings import SAMPLE_RATE
from broadcast_shared.messages.segments import NEUTRAL_DYNAMICS, EmotionDynamics
from broadcast_shared.messages.wire import WireModel

FRAME = SAMPLE_RATE // 100  # 10 ms
FULL_SCALE = 32768.0
SILENCE_DBFS = -96.0
CLIP_LEVEL = 32_000
PITCH_RANGE_HZ = (70.0, 400.0)
VOICED_DBFS = -45.0


def _rounded(digits: int) -> PlainSerializer:
    """A float written to the stream with ``digits`` decimals (the record stays small; the worker needs no more)."""
    return PlainSerializer(lambda value: round(value, digits), return_type=float, when_used="json")


class ChunkMeasurement(WireModel):
    """One chunk, measured (``sendAudio`` writes it into the chunk's record, the worker reads it). ``frame_db`` is
    the 10 ms energy envelope in dBFS."""

    duration: Annotated[float, _rounded(4)]
    rms_dbfs: Annotated[float, _rounded(2)]
    clipped_fraction: Annotated[float, _rounded(5), Field(alias="clipped")]
    #: share of the spectrum's energy above 4 kHz (near zero: audio upsampled from 8 kHz)
    high_band_ratio: Annotated[float, _rounded(6), Field(alias="highBand")]
    pitch_hz: Annotated[float, _rounded(1)] | None = None
    frame_db: tuple[Annotated[float, _rounded(1)], ...]


def _dbfs(mean_square: np.ndarray | float) -> np.ndarray | float:
    return np.maximum(10.0 * np.log10(np.maximum(mean_square, 1e-12) / FULL_SCALE**2), SILENCE_DBFS)


def measure(pcm: bytes) -> ChunkMeasurement:
    """Measure 16-bit little-endian mono PCM at 16 kHz."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    duration = samples.size / SAMPLE_RATE
    if samples.size == 0:
        return ChunkMeasurement(
            duration=0.0, rms_dbfs=SILENCE_DBFS, clipped_fraction=0.0, high_band_ratio=0.0, pitch_hz=None, frame_db=()
        )
    rms_dbfs = float(_dbfs(np.mean(samples**2)))
    clipped = float(np.mean(np.abs(samples) >= CLIP_LEVEL))
    frames = samples[: samples.size // FRAME * FRAME].reshape(-1, FRAME)
    frame_db = tuple(float(v) for v in np.atleast_1d(_dbfs(np.mean(frames**2, axis=1)))) if frames.size else ()
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    total = float(spectrum.sum())
    freqs = np.fft.rfftfreq(samples.size, 1.0 / SAMPLE_RATE)
    high_band = float(spectrum[freqs >= 4000.0].sum() / total) if total > 0 else 0.0
    return ChunkMeasurement(
        duration=duration,
        rms_dbfs=rms_dbfs,
        clipped_fraction=clipped,
        high_band_ratio=high_band,
        pitch_hz=_pitch(samples, rms_dbfs),
        frame_db=frame_db,
    )


def _pitch(samples: np.ndarray, rms_dbfs: float) -> float | None:
    """Autocorrelation pitch over the chunk's loudest 40 ms, or None when unvoiced."""
    window = int(0.04 * SAMPLE_RATE)
    if samples.size < window or rms_dbfs < VOICED_DBFS:
        return None
    energies = np.convolve(samples**2, np.ones(window), mode="valid")[::FRAME]
    start = int(np.argmax(energies)) * FRAME
    segment = samples[start : start + window]
    segment = segment - segment.mean()
    correlation = np.correlate(segment, segment, mode="full")[window - 1 :]
    if correlation[0] <= 0:
        return None
    low, high = int(SAMPLE_RATE / PITCH_RANGE_HZ[1]), int(SAMPLE_RATE / PITCH_RANGE_HZ[0])
    lag = low + int(np.argmax(correlation[low:high]))
    if correlation[lag] / correlation[0] < 0.3:  # weak periodicity: not voiced
        return None
    return SAMPLE_RATE / lag


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
            volume = float(np.clip((measurement.rms_dbfs + 50.0) / 40.0, 0.0, 1.0))
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
            volume=float(np.mean([d.volume for d in spans])),
            rate=float(np.mean([d.rate for d in spans])),
            energy=float(np.mean([d.energy for d in spans])),
        )

    def _smooth(self, previous: float, value: float) -> float:
        return (1 - self.ALPHA) * previous + self.ALPHA * value

    def _energy_now(self, volume: float) -> float:
        if len(self._pitches) < 2:
            return volume
        semitones = 12.0 * np.log2(np.asarray(self._pitches) / np.median(self._pitches))
        spread = float(np.clip(np.std(semitones) / 6.0, 0.0, 1.0))
        return float(np.clip((volume + spread) / 2.0, 0.0, 1.0))

    def _rate(self) -> float:
        """Syllable-like peaks: local maxima at least 6 dB above the window's floor, 100 ms apart."""
        if len(self._envelope) < 50:
            return 1.0
        envelope = np.convolve(np.asarray(self._envelope), np.ones(5) / 5, mode="same")
        floor = np.percentile(envelope, 20)
        if envelope.max() < VOICED_DBFS:
            return 1.0
        peaks, last = 0, -10
        for i in range(1, envelope.size - 1):
            is_peak = envelope[i] >= envelope[i - 1] and envelope[i] > envelope[i + 1]
            if is_peak and envelope[i] > floor + 6.0 and envelope[i] > VOICED_DBFS and i - last >= 10:
                peaks, last = peaks + 1, i
        per_second = peaks / (envelope.size / 100.0)
        return float(np.clip(per_second / 4.0, 0.5, 2.0))
