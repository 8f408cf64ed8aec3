"""The audio chunk as it travels on the Kinesis stream, keyed by session id."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from audio_transcription.dynamics import ChunkMeasurement


@dataclass(frozen=True)
class AudioChunk:
    session_id: str
    sequence: int
    connection_id: str
    received_at: float
    #: PCM to transcribe; empty for a chunk accepted while the broadcast was paused
    pcm: bytes
    #: how long the chunk is, in seconds (also for paused chunks, which carry no audio)
    duration: float
    measurement: ChunkMeasurement | None = None

    @property
    def paused(self) -> bool:
        return not self.pcm

    def encode(self) -> bytes:
        return json.dumps(
            {
                "sessionId": self.session_id,
                "sequence": self.sequence,
                "connectionId": self.connection_id,
                "receivedAt": self.received_at,
                "duration": self.duration,
                "audio": base64.b64encode(self.pcm).decode(),
                "measurement": None if self.measurement is None else self.measurement.to_record(),
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def decode(cls, data: bytes) -> AudioChunk:
        record = json.loads(data)
        measurement = record.get("measurement")
        return cls(
            session_id=record["sessionId"],
            sequence=int(record["sequence"]),
            connection_id=record["connectionId"],
            received_at=float(record["receivedAt"]),
            pcm=base64.b64decode(record["audio"]),
            duration=float(record["duration"]),
            measurement=None if measurement is None else ChunkMeasurement.from_record(measurement),
        )
