"""Session management's own settings: connection lifetimes, audience and session limits."""

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from broadcast_shared.config import FROM_JSON, NonEmpty, RouteSettings
from broadcast_shared.pricing import LIVE_PRICES


class SessionSettings(RouteSettings):
    """The route settings every WebSocket function reads plus what only session management reads."""

    #: a connection with no accepted message for this long is closed by the sweep
    idle_timeout_seconds: int = 600
    #: API Gateway closes every WebSocket connection after two hours
    connection_max_age_seconds: int = 7200
    #: how long before that limit a ``connectionRefresh`` warning is sent
    connection_refresh_warning_seconds: int = 300
    max_listeners_per_session: int = 5000
    #: the Amazon Translate custom terminologies a session may name (any other is refused: the account may hold
    #: terminologies of other products or customers)
    allowed_terminologies: frozenset[str] = frozenset()
    #: sessions one speaker (token ``sub``) may create per hour, whatever the connection
    max_sessions_per_user_per_hour: int = 10
    #: every final of a session per language (the translation pipeline writes it; ``getTranscript`` reads it)
    transcripts_table: NonEmpty
    #: how long the transcripts (and each session's audience samples and report beside them) are kept
    transcript_retention_seconds: int = Field(default=7 * 86400, ge=1)
    #: the functions a talk's audio passes through, warmed by ``createSession`` (``broadcast_shared.warm_up``), each
    #: with the warm environments it wants at once (JSON, from ``platform.json``'s ``warm_ups.create_session``)
    warm_up_functions: Annotated[dict[str, Annotated[int, Field(ge=1, le=4)]], FROM_JSON] = {}
    #: the translation pipeline, warmed by ``joinSession`` for a language's first listener
    translation_function_name: str = ""
    #: broadcastStateChanged broadcasts to a session's listeners per second at most; changes in between are
    #: coalesced into one trailing broadcast of the latest state (``session_management.control``)
    control_broadcasts_per_second: Annotated[float, Field(gt=0, le=10)] = 2.0
    #: Management API calls a session's control broadcasts may cost per second (one per listener and the speaker
    #: each): above 1,250 listeners the window widens (5,000 listeners: one broadcast every 2 s)
    control_calls_per_second: Annotated[float, Field(gt=0)] = 2500.0
    #: the SQS queue of delayed trailing broadcasts, consumed by ``publish_broadcast_state``
    control_queue_url: NonEmpty
    #: USD per billing unit (JSON, name -> USD: Terraform decodes ``infrastructure/pricing/<region>.json``), for the
    #: estimated cost in ``sessionStatus`` (``broadcast_shared.pricing``)
    prices: Annotated[dict[str, Annotated[float, Field(ge=0)]], FROM_JSON]
    #: listeners' questions (``askQuestion`` writes, ``markQuestion`` marks)
    questions_table: NonEmpty
    #: what translates a question into the session's source language: ``translate`` (Amazon Translate) or
    #: ``apertium`` (local)
    translation_engine: Literal["translate", "apertium"] = "translate"
    #: questions one listener connection may ask per minute, and one session's listeners together
    questions_per_connection_per_minute: Annotated[int, Field(ge=1)] = 3
    questions_per_session_per_minute: Annotated[int, Field(ge=1)] = 30

    @field_validator("allowed_terminologies", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(name.strip() for name in value.split(",") if name.strip())
        return value

    @field_validator("prices")
    @classmethod
    def _live_prices(cls, value: dict[str, float]) -> dict[str, float]:
        missing = sorted(set(LIVE_PRICES) - set(value))
        if missing:
            raise ValueError(f"prices: missing {', '.join(missing)}")
        return value
