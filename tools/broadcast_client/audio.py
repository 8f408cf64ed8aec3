"""PCM the way sendAudio wants it: 16 kHz, 16-bit little-endian, mono."""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
#: the longest chunk one sendAudio message may carry: its JSON must fit one 32 KB WebSocket
#: frame (API Gateway closes a connection on a larger frame, and browsers send a message as one)
MAX_CHUNK_MS = 750


def chunk_bytes(chunk_ms: int) -> int:
    """Bytes of PCM per message: ``chunk_ms`` of audio, split to at most ``MAX_CHUNK_MS``."""
    return SAMPLE_RATE * 2 * min(chunk_ms, MAX_CHUNK_MS) // 1000


def read_wav(path: Path) -> bytes:
    """A WAV file as 16 kHz mono 16-bit PCM, mixed down and resampled if needed."""
    with wave.open(str(path), "rb") as source:
        channels, width, rate = source.getnchannels(), source.getsampwidth(), source.getframerate()
        frames = source.readframes(source.getnframes())
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}.get(width)
    if dtype is None:
        raise ValueError(f"{path}: {8 * width}-bit samples are not supported")
    samples = np.frombuffer(frames, dtype=dtype).astype(np.float64)
    if width == 1:
        samples = (samples - 128) * 256
    elif width == 4:
        samples = samples / 65536
    samples = samples.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE and len(samples):
        samples = resample(samples, rate)
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """``samples`` taken at ``rate`` Hz, linearly interpolated to :data:`SAMPLE_RATE`."""
    count = int(samples.size * SAMPLE_RATE / rate)
    return np.interp(np.arange(count) * rate / SAMPLE_RATE, np.arange(samples.size), samples)


def chunks(pcm: bytes, chunk_ms: int) -> Iterator[bytes]:
    """Fixed-size chunks of at most ``MAX_CHUNK_MS``; the last is padded with silence (sendAudio refuses very
    short chunks)."""
    size = chunk_bytes(chunk_ms)
    for start in range(0, len(pcm), size):
        yield pcm[start : start + size].ljust(size, b"\0")


def microphone(chunk_ms: int) -> Iterator[bytes]:
    """The default recording device through sox, in chunks of at most ``MAX_CHUNK_MS``, until interrupted."""
    size = chunk_bytes(chunk_ms)
    command = ["sox", "-q", "-d", "-t", "raw", "-r", str(SAMPLE_RATE), "-e", "signed", "-b", "16", "-c", "1", "-"]
    with subprocess.Popen(command, stdout=subprocess.PIPE) as recorder:
        assert recorder.stdout is not None
        while chunk := recorder.stdout.read(size):
            yield chunk
