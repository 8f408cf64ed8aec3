"""What one chunk of speech sounds like, measured with numpy in ``sendAudio`` (on every chunk, before it goes
on the stream): loudness, clipping, bandwidth, pitch and the 10 ms energy envelope the worker's
:class:`~audio_transcription.dynamics.DynamicsTracker` reads speaking rate from."""

from __future__ import annotations

import numpy as np

from audio_transcription.chunks import SILENCE_DBFS, VOICED_DBFS, ChunkMeasurement
from audio_transcription.settings import SAMPLE_RATE

FRAME = SAMPLE_RATE // 100  # 10 ms
FULL_SCALE = 32768.0
CLIP_LEVEL = 32_000
PITCH_RANGE_HZ = (70.0, 400.0)


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
