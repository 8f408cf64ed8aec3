"""The dependencies every WebSocket function shares, built once per execution environment.

Handlers never build clients per call: a route resolves its :class:`Runtime` on the
first invocation and keeps it while the environment is warm. Tests build one from
their own settings and clients and hand it to a handler with ``handler.using(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from broadcast_shared import aws
from broadcast_shared.clock import Clock, SystemClock
from broadcast_shared.config import Settings
from broadcast_shared.departures import Departures
from broadcast_shared.notifier import Notifier
from broadcast_shared.repositories.connections import ConnectionsRepository
from broadcast_shared.repositories.rate_limits import RateLimiter
from broadcast_shared.repositories.sessions import SessionsRepository


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    clock: Clock
    connections: ConnectionsRepository
    sessions: SessionsRepository
    rate_limiter: RateLimiter
    notifier: Notifier
    departures: Departures

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        clock = clock or SystemClock()
        dynamodb = aws.resource("dynamodb")
        connections = ConnectionsRepository(
            dynamodb.Table(settings.connections_table),
            settings.connections_by_session_index,
            settings.record_ttl_seconds,
        )
        sessions = SessionsRepository(
            dynamodb.Table(settings.sessions_table), settings.connections_table, settings.record_ttl_seconds
        )
        notifier = Notifier(
            aws.client("apigatewaymanagementapi", endpoint_url=settings.management_api_endpoint),
            concurrency=settings.fanout_concurrency,
        )
        return cls(
            settings=settings,
            clock=clock,
            connections=connections,
            sessions=sessions,
            rate_limiter=RateLimiter(dynamodb.Table(settings.rate_limits_table)),
            notifier=notifier,
            departures=Departures(connections, sessions, notifier, clock, settings.speaker_grace_seconds),
        )
