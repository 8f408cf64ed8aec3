"""The command-line clients' pure parts: audio conversion and message lines."""

from __future__ import annotations

import base64
import json
import wave

import numpy as np

from broadcast_client.audio import SAMPLE_RATE, chunks, read_wav
from broadcast_client.captions import Captions
from broadcast_client.connection import describe, url_for


def write_wav(path, samples: np.ndarray, rate: int, channels: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())


def test_stereo_44k_wav_becomes_16k_mono_pcm(tmp_path):
    seconds = 0.5
    t = np.arange(int(44100 * seconds)) / 44100
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    write_wav(tmp_path / "a.wav", np.stack([tone, tone], axis=1).reshape(-1), 44100, 2)
    pcm = np.frombuffer(read_wav(tmp_path / "a.wav"), dtype="<i2")
    assert len(pcm) == int(SAMPLE_RATE * seconds)
    spectrum = np.abs(np.fft.rfft(pcm))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / len(pcm) - 440) < 5


def test_chunks_hold_the_requested_duration():
    pcm = bytes(SAMPLE_RATE * 2)  # one second
    sizes = [len(c) for c in chunks(pcm, 100)]
    assert sizes == [3200] * 10


def test_a_long_chunk_is_split_so_every_send_audio_message_fits_one_32_kb_frame():
    pcm = bytes(SAMPLE_RATE * 2 * 2)  # two seconds, asked for as one chunk
    pieces = list(chunks(pcm, 2000))
    messages = [
        json.dumps({"action": "sendAudio", "audio": base64.b64encode(p).decode(), "sequence": 2**53 - 1})
        for p in pieces
    ]
    assert max(len(m.encode()) for m in messages) <= 32 * 1024
    assert b"".join(pieces).rstrip(b"\0") == pcm.rstrip(b"\0") and sum(map(len, pieces)) >= len(pcm)


def test_url_and_message_lines():
    assert url_for("ws://h/local", role="listener") == "ws://h/local?role=listener"
    assert describe({"type": "error", "code": "FORBIDDEN", "message": "no"}) == "error FORBIDDEN: no"
    line = describe(
        {
            "type": "sessionStatus",
            "updateReason": "requested",
            "listenerCount": 2,
            "languageDistribution": {"es": 1, "fr": 1},
            "sessionDuration": 5,
            "broadcastState": {},
        }
    )
    assert "2 listeners [es 1, fr 1]" in line


def test_the_listener_shows_each_final_once_in_order_and_no_stale_partial():
    def caption(segment: str, start: float, text: str, partial: bool = False) -> dict:
        return {"type": "translation", "segmentId": segment, "startTime": start, "text": text, "isPartial": partial}

    captions = Captions()
    arriving = [
        caption("s0-u1", 0.0, "hola", partial=True),
        caption("s0-u1", 0.0, "hola a", partial=True),
        caption("s0-u1", 0.0, "hola", partial=True),  # a shorter, older partial
        caption("s0-u1", 0.0, "hola a todos"),
        caption("s0-u1", 0.0, "hola a todos"),  # a retry's duplicate
        caption("s0-u1", 0.0, "hola a todos y", partial=True),  # a partial after its final
        caption("s0-u3", 4.0, "adiós"),
        caption("s0-u2", 2.0, "y bien"),  # a final that came after a later one: skipped by the server
        caption("s0-u2", 2.0, "y", partial=True),
    ]
    shown = [(m["segmentId"], m["text"]) for m in arriving if captions.accept(m)]
    assert shown == [("s0-u1", "hola"), ("s0-u1", "hola a"), ("s0-u1", "hola a todos"), ("s0-u3", "adiós")]
    assert captions.dropped == 5
