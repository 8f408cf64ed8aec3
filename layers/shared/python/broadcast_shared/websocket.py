"""Turns a WebSocket route's function into a Lambda handler.

The wrapper does, once for every route: structured-log context and EMF metrics, the
rate limits (every inbound message counts, before anything else is looked at), size
limit, JSON parsing, validation against the route's model, the caller's connection
record and role, and the one place where any error becomes a single ``error`` message
to the caller (never a traceback) - or, for a flood, no message at all (:class:`Admission`).
A route function only calls a service and sends what it returns.

    @route(JoinSession, roles={Role.LISTENER})
    def handler(request: Request[JoinSession], runtime: Runtime) -> None: ...
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from broadcast_shared.errors import BroadcastError, ErrorCode, invalid
from broadcast_shared.messages.outbound import Error
from broadcast_shared.meter import meter
from broadcast_shared.observability import count_by, logger, metrics
from broadcast_shared.repositories.records import Connection, Role
from broadcast_shared.warm_up import is_warm_up, warm

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")

ALL_ROLES = frozenset(Role)
#: a connection's messages are counted in blocks of this share of its limit, taken ahead in one write
#: (:class:`~broadcast_shared.repositories.rate_limits.RateLimiter`): ``sendAudio``'s 60 a second in blocks of 5, so
#: a speaker's five chunks a second cost one write, not five; a control route's 10 are counted one by one
LEASE_SHARE = 12
#: a connection's activity (``lastSeenAt``) is written when the last write is at least this old: the idle sweep
#: closes after 10 minutes of silence, so a minute's precision costs nothing, and a speaker's five ``sendAudio``
#: messages a second do not each write the connection's row
TOUCH_INTERVAL_SECONDS = 60.0
#: what a message's handler may answer because the connection row it was given was remembered, not read now
STALE_CODES = frozenset({ErrorCode.NOT_IN_SESSION, ErrorCode.SESSION_ENDED})


@dataclass(frozen=True)
class Request(Generic[M]):
    """A validated message from a known connection."""

    connection: Connection
    message: M
    event: dict[str, Any]

    @property
    def connection_id(self) -> str:
        return self.connection.connection_id

    @property
    def source_ip(self) -> str:
        return source_ip_of(self.event)


class LazyRuntime(Generic[R]):
    """Builds the runtime on first use and keeps it while the environment is warm."""

    def __init__(self, factory: Callable[[], R]) -> None:
        self._factory = factory
        self._value: R | None = None

    def get(self) -> R:
        if self._value is None:
            self._value = self._factory()
        return self._value


#: The runtime of the invocation in progress: set by :meth:`Handler.using` around the entry point.
_RUNTIME: ContextVar[Any] = ContextVar("runtime")


class Handler(Generic[R]):
    """A Lambda entry point: Powertools' logging context and metrics applied once, at import.

    The runtime is resolved on the first invocation and kept while the environment is warm;
    tests and the local runtime hand one in with :meth:`using`. A warm-up event
    (:mod:`broadcast_shared.warm_up`) only builds the runtime and lets it load ahead.
    """

    def __init__(self, runtime: LazyRuntime[R], correlation_id_path: str | None = None) -> None:
        self._runtime = runtime
        entry = metrics.log_metrics(self._entry)
        # Never the event (whatever POWERTOOLS_LOGGER_LOG_EVENT says): a message may carry a private talk's passcode.
        self._entry_point = logger.inject_lambda_context(
            correlation_id_path=correlation_id_path, clear_state=True, log_event=False
        )(entry)

    def using(self, runtime: R) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
        """The same handler bound to the given runtime (for tests and the local runtime)."""

        def invoke(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            token = _RUNTIME.set(runtime)
            try:
                return self._entry_point(event, context)
            finally:
                _RUNTIME.reset(token)
                meter.flush()

        return invoke

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return self.using(self._runtime.get())(event, context)

    def _entry(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if is_warm_up(event):
            return warm(_RUNTIME.get(), event)
        return self._invoke(event, context, _RUNTIME.get())

    def _invoke(self, event: dict[str, Any], context: LambdaContext, runtime: R) -> dict[str, Any]:
        raise NotImplementedError


# The WebSocket event's few fields are read from the event itself, not through Powertools'
# ``APIGatewayWebSocketEvent``: importing it runs the ``data_classes`` package, which imports every event class
# Powertools has (about 15 ms of each route's cold start, ``make bench``).


def connection_id_of(event: dict[str, Any]) -> str:
    return str(event["requestContext"]["connectionId"])


def source_ip_of(event: dict[str, Any]) -> str:
    return str(((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp") or "")


@dataclass(frozen=True)
class Admission:
    """How one inbound message counted against its connection's limit, and whether its refusal is answered.

    Every message is counted, whatever it holds (invalid JSON, a forbidden or unknown action,
    an oversized body), because answering it costs a Management API call and a log line as
    much as serving a valid one. Beyond the connection's limit a message is refused with
    ``RATE_LIMITED``, answered once per connection per second and silently after that. Every
    other refusal is counted against its source address (all its connections together):
    beyond that limit refusals go unanswered. Valid messages are served whatever the source
    has sent, and never touch its counter (a hot item under a flood), so a speaker sharing
    an address with a flood keeps streaming at its usual latency.
    """

    connection_id: str
    source: str
    limit_per_second: int
    bucket: str
    within_limit: bool

    @classmethod
    def count(cls, runtime: Any, event: dict[str, Any], rate: tuple[str, int]) -> Admission:
        bucket, limit = rate
        connection_id = connection_id_of(event)
        within = runtime.rate_limiter.try_acquire(
            f"{connection_id}#{bucket}", limit, 1, runtime.clock.now(), lease=max(1, limit // LEASE_SHARE)
        )
        return cls(connection_id, source_ip_of(event), limit, bucket, within)

    def screen(self, event: dict[str, Any], max_bytes: int, action: str | None) -> str:
        """The message's text, or a :class:`BroadcastError`: over the rate limit, binary, or too large."""
        if not self.within_limit:
            raise BroadcastError(
                ErrorCode.RATE_LIMITED,
                f"more than {self.limit_per_second} {self.bucket} messages per second; slow down",
                {"limitPerSecond": self.limit_per_second},
            )
        if event.get("isBase64Encoded"):
            raise BroadcastError(ErrorCode.INVALID_MESSAGE, "messages must be JSON text frames")
        body = event.get("body") or ""
        size = len(body.encode())
        if size > max_bytes:
            raise BroadcastError(
                ErrorCode.MESSAGE_TOO_LARGE,
                f"message is {size} bytes; the limit for {action or 'this message'} is {max_bytes}",
                {"size": size, "limit": max_bytes},
            )
        return body

    def refuse(self, runtime: Any, error: BroadcastError, action: str | None) -> None:
        """Answer a refused message, unless the answer itself would feed a flood."""
        limiter, now = runtime.rate_limiter, runtime.clock.now()
        if error.code is ErrorCode.RATE_LIMITED:
            answer = limiter.try_acquire(f"{self.connection_id}#refusals", 1, 1, now)
        else:
            limit = runtime.settings.source_rate_per_second
            answer = not self.source or limiter.try_acquire(f"source#{self.source}#refusals", limit, 1, now)
        if answer:
            reject(runtime, self.connection_id, error, action)
        else:
            count_by("MessagesUnanswered", code=error.code.value)


class RouteHandler(Handler[R], Generic[M, R]):
    def __init__(
        self,
        function: Callable[[Request[M], R], None],
        model: type[M],
        roles: Collection[Role],
        runtime: LazyRuntime[R],
        max_bytes: Callable[[R], int],
        rate: Callable[[R], tuple[str, int]],
    ) -> None:
        super().__init__(runtime, correlation_id_path="requestContext.requestId")
        self._function = function
        self._model = model
        self._roles = frozenset(roles)
        self._max_bytes = max_bytes
        self._rate = rate
        self._action = model.model_fields["action"].annotation.__args__[0]  # type: ignore[union-attr]

    def _invoke(self, event: dict[str, Any], context: LambdaContext, runtime: Any) -> dict[str, Any]:
        connection_id = connection_id_of(event)
        logger.append_keys(connection_id=connection_id, action=self._action)
        admission: Admission | None = None
        try:
            admission = Admission.count(runtime, event, self._rate(runtime))
            body = admission.screen(event, self._max_bytes(runtime), self._action)
            request = self._accept(body, event, runtime)
            logger.append_keys(session_id=request.connection.session_id)
            try:
                self._function(request, runtime)
            except BroadcastError as error:
                # A row remembered from an earlier message (broadcast_shared.repositories.connections) may name
                # the session this connection had before its current one: served again from a fresh read.
                if error.code not in STALE_CODES or not runtime.connections.forget(connection_id):
                    raise
                request = self._accept(body, event, runtime)
                self._function(request, runtime)
            now = runtime.clock.now()
            if now - request.connection.last_seen_at >= TOUCH_INTERVAL_SECONDS:
                runtime.connections.touch(connection_id, now)
            metrics.add_metric(name="MessagesAccepted", unit=MetricUnit.Count, value=1)
        except BroadcastError as error:
            if admission is None:
                reject(runtime, connection_id, error, self._action)
            else:
                admission.refuse(runtime, error, self._action)
        except Exception:
            logger.exception("route failed")
            reject(
                runtime,
                connection_id,
                BroadcastError(ErrorCode.INTERNAL_ERROR, "the server could not process this message"),
                self._action,
            )
        return {"statusCode": 200}

    def _accept(self, body: str, event: dict[str, Any], runtime: Any) -> Request[M]:
        message = parse_message(body, self._model)
        connection = runtime.connections.get(connection_id_of(event))
        if connection is None:
            raise BroadcastError(ErrorCode.FORBIDDEN, "this connection is not registered; reconnect")
        if connection.role not in self._roles:
            raise BroadcastError(
                ErrorCode.FORBIDDEN,
                f"{self._action} is not allowed for a {connection.role.value}",
                {"role": connection.role.value},
            )
        return Request(
            connection=connection,
            message=message,
            event=event,
        )


def load_json_object(body: str) -> dict[str, Any]:
    """A text frame as a JSON object, or an ``INVALID_JSON`` :class:`BroadcastError`."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise BroadcastError(ErrorCode.INVALID_JSON, f"message is not valid JSON: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise BroadcastError(ErrorCode.INVALID_JSON, f"message is not valid JSON: {exc.reason}") from None
    if not isinstance(data, dict):
        raise BroadcastError(ErrorCode.INVALID_JSON, "message must be a JSON object")
    return data


def parse_message(body: str, model: type[M]) -> M:
    """JSON text → the route's model, or a :class:`BroadcastError` that says what is wrong.

    Validated from the text itself, so the models' strict mode judges JSON types: an enum from its
    string, but no integer from ``"42"`` or ``true``."""
    load_json_object(body)
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise invalid(exc) from None


def reject(runtime: Any, connection_id: str, error: BroadcastError, action: str | None) -> None:
    """Tell the caller why its message was refused; log and count it."""
    logger.info("message rejected", extra={"code": error.code.value, "reason": error.message})
    count_by("MessagesRejected", code=error.code.value)
    message = Error(code=error.code, message=error.message, action=action, details=error.details or None)
    if not runtime.notifier.send(connection_id, message):
        runtime.departures.connection_closed(connection_id)


def control_size(runtime: Any) -> int:
    return runtime.settings.max_control_message_bytes


def control_rate(runtime: Any) -> tuple[str, int]:
    return "control", runtime.settings.control_rate_per_second


def route_decorator(
    runtime: LazyRuntime[R],
    *,
    max_bytes: Callable[[R], int] = control_size,
    rate: Callable[[R], tuple[str, int]] = control_rate,
) -> Callable[..., Callable[[Callable[[Request[M], R], None]], RouteHandler[M, R]]]:
    """Make the ``@route(Model, roles=...)`` decorator for a service's runtime."""

    def route(
        model: type[M], roles: Collection[Role] = ALL_ROLES
    ) -> Callable[[Callable[[Request[M], R], None]], RouteHandler[M, R]]:
        def wrap(function: Callable[[Request[M], R], None]) -> RouteHandler[M, R]:
            return RouteHandler(function, model, roles, runtime, max_bytes, rate)

        return wrap

    return route


EventFunction = Callable[[dict[str, Any], R, LambdaContext], "dict[str, Any] | None"]


class EventHandler(Handler[R]):
    """An entry point that is not a client message: ``$connect``, ``$disconnect``, schedules, streams, invokes.

    The function gets the event, the runtime and the Lambda context (for its deadline).
    """

    def __init__(self, function: EventFunction[R], runtime: LazyRuntime[R]):
        super().__init__(runtime)
        self._function = function

    def _invoke(self, event: dict[str, Any], context: LambdaContext, runtime: R) -> dict[str, Any]:
        request_context = event.get("requestContext") or {}
        if "connectionId" in request_context:
            logger.append_keys(connection_id=request_context["connectionId"], route=request_context.get("routeKey"))
            logger.set_correlation_id(request_context.get("requestId"))
        return self._function(event, runtime, context) or {"statusCode": 200}


def event_decorator(runtime: LazyRuntime[R]) -> Callable[[EventFunction[R]], EventHandler[R]]:
    """Make the ``@on_event`` decorator for a service's runtime."""

    def on_event(function: EventFunction[R]) -> EventHandler[R]:
        return EventHandler(function, runtime)

    return on_event
