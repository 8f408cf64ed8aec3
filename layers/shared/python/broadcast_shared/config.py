"""Settings every function reads from its environment, validated once at start-up.

Each settings class is a pydantic model read from the environment: a field comes from the variable of its
upper-case name (or its alias), prefixed by the class's ``env_prefix``; a blank variable is taken as unset;
pydantic converts and validates the text (``"10.9"`` is no integer, ``"0"`` and ``"false"`` are false), and a
missing or invalid value fails the cold start with a :class:`ConfigurationError` naming the variable, not a
KeyError deep in a request. Terraform sets these variables (see ``infrastructure/modules/lambda_function``); the
local runtime sets the same ones.

The variables are read here, not through pydantic-settings: its package imports every settings source it has
(asyncio, argparse, python-dotenv, the cloud secret stores) whatever a class uses, about 30-70 ms of every
function's cold start (docs/INFRASTRUCTURE.md, "Cold start"), for what this one loop does.

Like the wire messages (``broadcast_shared.messages.wire``), the settings modules leave out
``from __future__ import annotations``, so pydantic reads their annotations as objects instead
of compiling strings at every cold start.
"""

import json
import os
from collections.abc import Mapping
from typing import Annotated, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

#: a setting that must be given and not be blank
NonEmpty = Annotated[str, Field(min_length=1)]
#: a setting whose variable holds JSON text (Terraform's ``jsonencode``), validated as its type once parsed; a value
#: that is not text (a test's dict) is validated as it is
FROM_JSON = BeforeValidator(lambda value: json.loads(value) if isinstance(value, str) else value)


class ConfigurationError(RuntimeError):
    """The function's environment lacks a setting it needs, or holds one it cannot use."""


class EnvironmentSettings(BaseModel):
    """Settings read once from the environment; frozen, blank variables taken as unset."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", str_strip_whitespace=True, populate_by_name=True, validate_default=True
    )
    #: what every variable's name starts with, before the field's name (or alias) in upper case
    env_prefix: ClassVar[str] = ""

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Self:
        """The settings from ``os.environ``, or from ``env`` alone when given (tests)."""
        env = os.environ if env is None else env
        values: dict[str, str] = {}
        for name, field in cls.model_fields.items():
            key = str(field.validation_alias or name)
            value = env.get(cls.env_prefix + key.upper(), "")
            if value.strip():
                values[key] = value
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{cls.env_prefix + str(error['loc'][0]).upper() if error['loc'] else '(settings)'}: {error['msg']}"
                for error in exc.errors(include_url=False)
            )
            raise ConfigurationError(f"environment variables: {problems}") from None


class Settings(EnvironmentSettings):
    """What every function that reaches clients reads: the session and connection tables and the Management API.

    The transcription worker reads exactly this; :class:`AudienceSettings` and :class:`RouteSettings` add what
    finding a session's listeners and answering client messages need. What only one service reads lives in that
    service's own settings (``SessionSettings``, ``AudioSettings``, ``TranslationSettings``)."""

    sessions_table: NonEmpty
    connections_table: NonEmpty
    management_api_endpoint: NonEmpty
    #: ended sessions and stale records expire through DynamoDB TTL after this long
    record_ttl_seconds: int = 86400
    #: concurrent management-API calls in one fan-out
    fanout_concurrency: int = 32


class AudienceSettings(Settings):
    """...plus what a function that finds a session's listeners and sees them leave reads (the pipeline)."""

    connections_by_session_index: NonEmpty
    #: how long a session waits for its speaker (same ``sub``) to reconnect before it ends; 0 ends it at once
    speaker_grace_seconds: int = 60


class RouteSettings(AudienceSettings):
    """...plus what every WebSocket route reads to admit a client's message (``broadcast_shared.websocket``)."""

    rate_limits_table: NonEmpty
    #: messages per connection per second on control actions (every inbound message counts, valid or not)
    control_rate_per_second: int = 10
    #: refused messages answered per source address per second across its connections; beyond it, none are
    source_rate_per_second: int = 200
    #: the largest inbound control message, in bytes (API Gateway's own limit is 128 KB)
    max_control_message_bytes: int = 16 * 1024
