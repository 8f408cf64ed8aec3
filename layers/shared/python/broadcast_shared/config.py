"""Settings every function reads from its environment, validated once at start-up.

Terraform sets these variables (see ``infrastructure/modules/lambda_function``); the
local runtime sets the same ones. A missing required variable fails the cold start
with a message naming it, not a KeyError deep in a request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class ConfigurationError(RuntimeError):
    """The function's environment lacks a setting it needs."""


def required(env: Mapping[str, str], name: str) -> str:
    """A non-empty setting, or a :class:`ConfigurationError` naming it."""
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is required")
    return value


def number(env: Mapping[str, str], name: str, default: float) -> float:
    """A numeric setting, its default when unset or empty."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"environment variable {name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    sessions_table: str
    connections_table: str
    rate_limits_table: str
    connections_by_session_index: str
    management_api_endpoint: str
    #: messages per connection per second on control actions (every inbound message counts, valid or not)
    control_rate_per_second: int = 10
    #: refused messages answered per source address per second across its connections; beyond it, none are
    source_rate_per_second: int = 200
    #: the largest inbound control message, in bytes (API Gateway's own limit is 128 KB)
    max_control_message_bytes: int = 16 * 1024
    #: a connection with no accepted message for this long is closed by the sweep
    idle_timeout_seconds: int = 600
    #: API Gateway closes every WebSocket connection after two hours
    connection_max_age_seconds: int = 7200
    #: how long before that limit a ``connectionRefresh`` warning is sent
    connection_refresh_warning_seconds: int = 300
    #: ended sessions and stale records expire through DynamoDB TTL after this long
    record_ttl_seconds: int = 86400
    max_listeners_per_session: int = 5000
    #: the Amazon Translate custom terminologies a session may name (any other is refused: the account may hold
    #: terminologies of other products or customers)
    allowed_terminologies: frozenset[str] = frozenset()
    #: sessions one speaker (token ``sub``) may create per hour, whatever the connection
    max_sessions_per_user_per_hour: int = 10
    #: concurrent management-API calls in one fan-out
    fanout_concurrency: int = 32
    #: how long a session waits for its speaker (same ``sub``) to reconnect before it ends; 0 ends it at once
    speaker_grace_seconds: int = 60

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            sessions_table=required(env, "SESSIONS_TABLE"),
            connections_table=required(env, "CONNECTIONS_TABLE"),
            rate_limits_table=required(env, "RATE_LIMITS_TABLE"),
            connections_by_session_index=required(env, "CONNECTIONS_BY_SESSION_INDEX"),
            management_api_endpoint=required(env, "MANAGEMENT_API_ENDPOINT"),
            control_rate_per_second=int(number(env, "CONTROL_RATE_PER_SECOND", cls.control_rate_per_second)),
            source_rate_per_second=int(number(env, "SOURCE_RATE_PER_SECOND", cls.source_rate_per_second)),
            max_control_message_bytes=int(number(env, "MAX_CONTROL_MESSAGE_BYTES", cls.max_control_message_bytes)),
            idle_timeout_seconds=int(number(env, "IDLE_TIMEOUT_SECONDS", cls.idle_timeout_seconds)),
            connection_max_age_seconds=int(number(env, "CONNECTION_MAX_AGE_SECONDS", cls.connection_max_age_seconds)),
            connection_refresh_warning_seconds=int(
                number(env, "CONNECTION_REFRESH_WARNING_SECONDS", cls.connection_refresh_warning_seconds)
            ),
            record_ttl_seconds=int(number(env, "RECORD_TTL_SECONDS", cls.record_ttl_seconds)),
            max_listeners_per_session=int(number(env, "MAX_LISTENERS_PER_SESSION", cls.max_listeners_per_session)),
            allowed_terminologies=frozenset(
                name.strip() for name in env.get("ALLOWED_TERMINOLOGIES", "").split(",") if name.strip()
            ),
            max_sessions_per_user_per_hour=int(
                number(env, "MAX_SESSIONS_PER_USER_PER_HOUR", cls.max_sessions_per_user_per_hour)
            ),
            fanout_concurrency=int(number(env, "FANOUT_CONCURRENCY", cls.fanout_concurrency)),
            speaker_grace_seconds=int(number(env, "SPEAKER_GRACE_SECONDS", cls.speaker_grace_seconds)),
        )
