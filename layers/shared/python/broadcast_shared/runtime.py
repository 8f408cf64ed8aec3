"""The dependencies functions share, built once per execution environment.

Handlers never build clients per call: an entry point resolves its runtime on the first
invocation and keeps it while the environment is warm. Tests build one from their own
settings and clients and hand it to a handler with ``handler.using(...)``.

:class:`Runtime` is what a function that reaches a session's audience needs (the translation
pipeline); :class:`RouteRuntime` adds the rate limiter every message of a WebSocket route counts
against (``sendAudio``; session management, whose runtime builds it only in the functions that
count messages). The transcription worker needs neither whole: it builds its sessions repository
and notifier with :func:`sessions_repository` and :func:`notifier`. A runtime keeps its one
DynamoDB resource (``dynamodb``) for the tables a service adds: each resource costs a boto3
session and its service model, about 0.1 s of a cold start.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from broadcast_shared import aws
from broadcast_shared.clock import Clock, SystemClock
from broadcast_shared.config import AudienceSettings, RouteSettings, Settings
from broadcast_shared.departures import Departures
from broadcast_shared.meter import meter
from broadcast_shared.notifier import Notifier
from broadcast_shared.repositories.connections import ConnectionsRepository
from broadcast_shared.repositories.rate_limits import RateLimiter
from broadcast_shared.repositories.sessions import SessionsRepository


def sessions_repository(settings: Settings, dynamodb: Any) -> SessionsRepository:
    """The sessions table; the cost meter keeps each session's usage on its item through it."""
    sessions = SessionsRepository(
        dynamodb.Table(settings.sessions_table), settings.connections_table, settings.record_ttl_seconds
    )
    meter.keep_usage(sessions.add_usage)
    return sessions


def notifier(settings: Settings) -> Notifier:
    return Notifier(
        aws.client("apigatewaymanagementapi", endpoint_url=settings.management_api_endpoint),
        concurrency=settings.fanout_concurrency,
    )


@dataclass(frozen=True)
class Runtime:
    settings: AudienceSettings
    clock: Clock
    #: the DynamoDB resource every table of the function hangs off
    dynamodb: Any
    connections: ConnectionsRepository
    sessions: SessionsRepository
    notifier: Notifier
    departures: Departures

    @classmethod
    def build(cls, settings: AudienceSettings, clock: Clock | None = None) -> Runtime:
        clock = clock or SystemClock()
        dynamodb = aws.resource("dynamodb")
        connections = ConnectionsRepository(
            dynamodb.Table(settings.connections_table),
            settings.connections_by_session_index,
            settings.record_ttl_seconds,
        )
        sessions = sessions_repository(settings, dynamodb)
        notify = notifier(settings)
        return cls(
            settings=settings,
            clock=clock,
            dynamodb=dynamodb,
            connections=connections,
            sessions=sessions,
            notifier=notify,
            departures=Departures(connections, sessions, notify, clock, settings.speaker_grace_seconds),
        )


@dataclass(frozen=True)
class RouteRuntime(Runtime):
    """What every WebSocket route needs: the audience runtime plus the rate limiter messages count against."""

    settings: RouteSettings
    rate_limiter: RateLimiter

    @classmethod
    def build_route(cls, settings: RouteSettings, clock: Clock | None = None) -> RouteRuntime:
        base = Runtime.build(settings, clock)
        return cls(
            **{f.name: getattr(base, f.name) for f in fields(Runtime)},
            rate_limiter=RateLimiter(base.dynamodb.Table(settings.rate_limits_table)),
        )
