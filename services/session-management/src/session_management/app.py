"""Session management's runtime, built once per execution environment, and the decorators every handler uses.

Every function of the service (the routes, ``$connect``, ``$disconnect``, ``$default``, the schedules and
the control queue's consumer) gets one :class:`SessionRuntime`: the typed :class:`SessionSettings` and every
collaborator. What every function uses is built with it (the tables, the Management API client, departures);
what only some use is built on first use and kept, so a function builds no client its IAM does not allow and
its cold start does not pay for (a boto3 client costs about 0.1 s): the capacity (``createSession``, the periodic
status: its plan is read from ``CAPACITY_PLAN`` then), the rate limiter (every route and
``$default``; not the schedules, ``$connect``, ``$disconnect`` or the queue's consumer), the control queue's
SQS client (the control routes and the consumer), the warm path's Lambda client (``createSession``,
``joinSession``), the transcripts table (``getTranscript``; the audience samples and reports beside the
transcripts: the audience routes, the periodic status and ``endSession``), the questions table (``askQuestion``,
``markQuestion``) and the translator (``askQuestion``). Their modules are imported there too, so no
function imports more than it runs. Tests build one with :meth:`SessionRuntime.build_session` from their own
settings and clock; its clients reach what ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_<SERVICE>``) names.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import TYPE_CHECKING

from broadcast_shared.clock import Clock
from broadcast_shared.pricing import Prices
from broadcast_shared.repositories.rate_limits import RateLimiter
from broadcast_shared.runtime import Runtime
from broadcast_shared.websocket import LazyRuntime, event_decorator, route_decorator
from session_management.settings import SessionSettings

if TYPE_CHECKING:
    from broadcast_shared.capacity import Capacity, CapacityPlan
    from broadcast_shared.repositories.questions import QuestionsRepository
    from broadcast_shared.repositories.reports import ReportsRepository
    from broadcast_shared.repositories.transcripts import TranscriptsRepository
    from broadcast_shared.translators import Translator
    from session_management.control import ControlBroadcasts
    from session_management.warm_path import WarmPath


@dataclass(frozen=True)
class SessionRuntime(Runtime):
    settings: SessionSettings
    #: the capacity plan, when given (tests); else read from ``CAPACITY_PLAN`` on first use (:attr:`capacity`)
    capacity_plan: CapacityPlan | None = None

    @classmethod
    def build_session(
        cls, settings: SessionSettings, clock: Clock | None = None, capacity_plan: CapacityPlan | None = None
    ) -> SessionRuntime:
        base = Runtime.build(settings, clock)
        return cls(**{f.name: getattr(base, f.name) for f in fields(Runtime)}, capacity_plan=capacity_plan)

    @classmethod
    def from_environment(cls) -> SessionRuntime:
        return cls.build_session(SessionSettings.from_environment())

    @cached_property
    def capacity(self) -> Capacity:
        """The talks at once this deployment carries, derived from its plan (``docs/CAPACITY.md``)."""
        from broadcast_shared.capacity import CapacitySettings, derive

        return derive(self.capacity_plan or CapacitySettings.from_environment().capacity_plan)

    @cached_property
    def prices(self) -> Prices:
        """The price file's prices, for the estimated cost in ``sessionStatus``."""
        return Prices(self.settings.prices)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """The counters every client message (and each speaker's session creations) count against."""
        return RateLimiter(self.dynamodb.Table(self.settings.rate_limits_table))

    @cached_property
    def control(self) -> ControlBroadcasts:
        """Coalesced control broadcasts, with the control queue their trailing broadcasts wait on."""
        from broadcast_shared import aws
        from broadcast_shared.control_queue import FollowUpQueue
        from session_management.control import ControlBroadcasts

        return ControlBroadcasts(self, FollowUpQueue(aws.client("sqs"), self.settings.control_queue_url))

    @cached_property
    def warm_path(self) -> WarmPath:
        """The warm-ups ``createSession`` and ``joinSession`` send ahead of a talk's audio."""
        from broadcast_shared import aws
        from broadcast_shared.warm_up import WarmUpInvoker
        from session_management.warm_path import WARM_UP_CONFIG, WarmPath

        return WarmPath(WarmUpInvoker(aws.client("lambda", config=WARM_UP_CONFIG)))

    @cached_property
    def transcripts(self) -> TranscriptsRepository:
        """The sessions' kept finals (``getTranscript``)."""
        from broadcast_shared.repositories.transcripts import TranscriptsRepository

        return TranscriptsRepository(self.dynamodb.Table(self.settings.transcripts_table))

    @cached_property
    def reports(self) -> ReportsRepository:
        """Each session's audience samples and report, beside its transcripts (``session_management.reports``)."""
        from broadcast_shared.repositories.reports import ReportsRepository

        return ReportsRepository(self.dynamodb.Table(self.settings.transcripts_table))

    @cached_property
    def questions(self) -> QuestionsRepository:
        """The listeners' questions (``askQuestion``, ``markQuestion``)."""
        from broadcast_shared.repositories.questions import QuestionsRepository

        return QuestionsRepository(self.dynamodb.Table(self.settings.questions_table))

    @cached_property
    def translator(self) -> Translator:
        """Translates a question into its session's source language (``askQuestion``)."""
        from broadcast_shared.translators import translator_for

        return translator_for(self.settings.translation_engine)


runtime = LazyRuntime(SessionRuntime.from_environment)
route = route_decorator(runtime)
on_event = event_decorator(runtime)
