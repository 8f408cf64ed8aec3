"""The transcript segment the transcription worker forwards to the translation pipeline.

Both services parse and produce it through this one model, so the contract between
them lives in one place (``docs/PROTOCOL.md`` describes it).
"""

from typing import Annotated, Literal

from pydantic import Field

from broadcast_shared.messages.wire import WireModel

Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class EmotionDynamics(WireModel):
    """How the speaker sounded over a span of audio, each value normalised.

    ``volume`` and ``energy`` are 0..1 (0.5 is an ordinary speaking voice); ``rate`` is
    relative to an average speaking rate (1.0), bounded to 0.5..2.0.
    """

    volume: Fraction = 0.5
    rate: Annotated[float, Field(ge=0.5, le=2.0, allow_inf_nan=False)] = 1.0
    energy: Fraction = 0.5


NEUTRAL_DYNAMICS = EmotionDynamics()


class TranscriptSegment(WireModel):
    type: Literal["transcriptSegment"] = "transcriptSegment"
    session_id: str
    source_language: str
    #: unique within the session; partials and the final of one utterance share it
    segment_id: str
    text: str
    is_partial: bool
    stability: Fraction
    #: offsets into the session's audio, in seconds
    start_time: Annotated[float, Field(ge=0.0)]
    end_time: Annotated[float, Field(ge=0.0)]
    dynamics: EmotionDynamics = NEUTRAL_DYNAMICS
    #: deliver to this language's listeners only (the worker's ordered lane per language);
    #: absent: every language the session's listeners chose
    target_language: str | None = None
