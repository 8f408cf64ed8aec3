"""The audio chunk as it travels on the Kinesis stream, keyed by session id: ``sendAudio`` writes it, the
transcription worker parses it, both through :class:`AudioChunk` (a record it refuses is skipped and counted,
``AudioRecordsUnreadable``)."""

import base64
from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer

from audio_transcription.dynamics import ChunkMeasurement
from broadcast_shared.messages.wire import WireModel


def _from_base64(value: object) -> object:
    return base64.b64decode(value, validate=True) if isinstance(value, str) else value


#: raw bytes in Python, standard base64 in the record
Base64Pcm = Annotated[
    bytes,
    BeforeValidator(_from_base64),
    PlainSerializer(lambda pcm: base64.b64encode(pcm).decode(), return_type=str, when_used="json"),
]


class AudioChunk(WireModel):
    session_id: Annotated[str, Field(min_length=1)]
    #: the speaker's ``sequence`` (``SendAudio`` bounds it the same way)
    sequence: Annotated[int, Field(ge=0, lt=2**53)]
    connection_id: Annotated[str, Field(min_length=1)]
    received_at: float
    #: how long the chunk is, in seconds (also for paused chunks, which carry no audio)
    duration: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
    #: PCM to transcribe (``audio`` in the record); empty for a chunk accepted while the broadcast was paused
    pcm: Annotated[Base64Pcm, Field(alias="audio")]
    measurement: ChunkMeasurement | None = None

    @property
    def paused(self) -> bool:
        return not self.pcm

    def encode(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()

    @classmethod
    def decode(cls, data: bytes) -> "AudioChunk":
        """The record's chunk, or a ``ValidationError`` naming what is wrong with it."""
        return cls.model_validate_json(data)
