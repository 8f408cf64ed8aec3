"""The audio chunk as it travels on the Kinesis stream, keyed by session id: ``sendAudio`` writes it, the
transcription worker parses it, both through :class:`AudioChunk` (a record it refuses is skipped and counted,
``AudioRecordsUnreadable``). The chunk carries its :class:`ChunkMeasurement` (``measure``, numpy, in ``sendAudio``),
which the worker's ``DynamicsTracker`` and ``QualityMonitor`` read: it is declared here, with the record, so
``sendAudio`` does not import the worker's tracker (and the segment models it produces)."""

import base64
from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer

from broadcast_shared.messages.wire import WireModel

#: the floor of every level measured, in dBFS (digital silence)
SILENCE_DBFS = -96.0
#: the level a 10 ms frame or a chunk needs to count as voiced, in dBFS
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
