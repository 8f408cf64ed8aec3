"""The cost meter: every AWS call a function makes, with the units it is billed on (issues #21, #22).

Every client :mod:`broadcast_shared.aws` builds is attached here: botocore's own events see each call
(``provide-client-params`` before it is sent, ``after-call`` once AWS answered, retries included in
one call), so no call site counts anything. What each call is billed on comes from its parameters
and its answer:

=========================================  ==========================================================
call                                       billed units
=========================================  ==========================================================
Translate ``TranslateText``                ``Characters``: the ``Text`` characters
Polly ``SynthesizeSpeech``                 ``Characters``: billable characters (SSML tags are not
                                           billed), by ``Engine`` (neural, standard)
Management API ``PostToConnection``        ``MessageUnits``: the ``Data`` in 32 KB units, and
                                           ``MessageBytes``, by ``MessageType`` (the message's type)
Kinesis ``PutRecord``/``PutRecords``       ``PayloadUnits``: 25 KB units per record, and ``PayloadBytes``
Kinesis ``GetRecords``                     ``RetrievedBytes``
DynamoDB (every operation)                 ``ReadUnits``/``WriteUnits``: the ``ConsumedCapacity`` AWS
                                           reports (``ReturnConsumedCapacity=TOTAL`` is asked for: a
                                           field of the answer, no extra call); where none comes back
                                           (a refused condition), the one-unit minimum per item
=========================================  ==========================================================

Every call also counts ``Calls``. The same keys count what throttling cost (``Throttled`` calls, speech
``Fallbacks`` and ``Skipped``, ``Dropped`` messages: docs/ARCHITECTURE.md, "Throttling"), so a session's
degradations sit beside its bill, per language. Transcribe streaming is not a botocore client: the worker reports the
seconds of audio it streams (:meth:`Meter.record`); the local stand-ins (apertium, espeak-ng) report the
call they stand in for through :meth:`Meter.stand_in`, through the same rules, so a local run counts what
AWS would bill.

Counts are kept per call key (AWS service, operation, session, language, segment kind, and the
service's own dimension) and written as CloudWatch EMF, one blob per key, at the end of every
invocation and at least once a minute in a long one (the worker): a live cost meter per session. At
the same flush the counts a session is billed on (:class:`broadcast_shared.pricing.SessionUsage`) go,
summed per session, to the usage sink (:meth:`Meter.keep_usage`: one DynamoDB ``ADD`` per session on its
item), which ``sessionStatus`` prices for the speaker. The
session, language and kind come from :func:`scope` (set where the work is for one session, language
and segment), else, for a message to a client, from the message's own ``sessionId``, else from the Powertools
logger's ``session_id`` key.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from broadcast_shared.observability import logger
from broadcast_shared.pricing import SessionUsage

#: API Gateway WebSocket messages are metered in 32 KB increments
MESSAGE_UNIT_BYTES = 32 * 1024
#: a Kinesis PUT payload unit
PAYLOAD_UNIT_BYTES = 25 * 1024
#: counts are written at least this often during a long invocation
FLUSH_INTERVAL_SECONDS = 60.0

#: the EMF metric each unit is written as
METRIC_NAMES = {
    "Calls": "AwsCalls",
    "Characters": "BilledCharacters",
    "MessageUnits": "BilledMessageUnits",
    "MessageBytes": "MessageBytes",
    "PayloadUnits": "BilledPayloadUnits",
    "PayloadBytes": "PayloadBytes",
    "RetrievedBytes": "RetrievedBytes",
    "ReadUnits": "BilledReadUnits",
    "WriteUnits": "BilledWriteUnits",
    "AudioSeconds": "BilledAudioSeconds",
    # degradations, not billed (docs/ARCHITECTURE.md, "Throttling"): calls the service throttled past their
    # budget, speech made by the standard voice instead of the neural one or skipped, messages dropped
    "Throttled": "ThrottledCalls",
    "Fallbacks": "SpeechFallbacks",
    "Skipped": "SpeechSkipped",
    "Dropped": "MessagesDropped",
    #: characters a caption took from the translation cache (not billed; ``make cost``'s floor counts them)
    "CachedCharacters": "CachedCharacters",
}
#: the EMF dimension each part of a call key is written as
DIMENSIONS = ("AwsService", "Operation", "SessionId", "Language", "SegmentKind")

_TAG = re.compile(r"<[^>]*>")
#: an XML entity or character reference (SSML is XML): one billed character each
_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z]+);")
_TYPE = re.compile(rb'"type"\s*:\s*"([A-Za-z]+)"')
_SESSION = re.compile(rb'"sessionId"\s*:\s*"([a-z0-9-]{1,64})"')
_DYNAMODB_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})


@dataclass(frozen=True)
class Scope:
    session: str | None = None
    language: str | None = None
    #: ``final`` or ``partial``: the segment the work is for
    kind: str | None = None


NO_SCOPE = Scope()
_SCOPE: ContextVar[Scope | None] = ContextVar("meter_scope", default=None)


@contextmanager
def scope(session: str | None = None, language: str | None = None, kind: str | None = None) -> Iterator[None]:
    """Attribute the calls made inside to a session, language and segment kind (on this thread)."""
    outer = _SCOPE.get() or NO_SCOPE
    token = _SCOPE.set(
        Scope(session or outer.session, language or outer.language, kind or outer.kind),
    )
    try:
        yield
    finally:
        _SCOPE.reset(token)


# --- the billing rules, one per unit ----------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    units: Mapping[str, float]
    language: str | None = None
    #: the service's own dimension (name, value), e.g. Polly's ``Engine``
    detail: tuple[str, str] | None = None
    #: the session the call names itself (a message's ``sessionId``), for calls made outside any scope
    session: str | None = None


def polly_billable_characters(text: str, text_type: str = "text") -> int:
    """Polly bills the characters spoken: SSML tags are not billed, an entity is one character."""
    if text_type != "ssml":
        return len(text)
    return len(_ENTITY.sub("_", _TAG.sub("", text)))


def message_units(size: int) -> int:
    """API Gateway WebSocket messages are billed in 32 KB increments (an empty message is one)."""
    return max(1, math.ceil(size / MESSAGE_UNIT_BYTES))


def payload_units(size: int) -> int:
    """Kinesis PUT payload units: 25 KB each, per record."""
    return max(1, math.ceil(size / PAYLOAD_UNIT_BYTES))


def message_type(data: bytes) -> str:
    """The protocol message's ``type`` (read from its first bytes, not parsed: fan-out sends thousands)."""
    found = _TYPE.search(data[:256])
    return found.group(1).decode() if found else "other"


def message_session(data: bytes) -> str | None:
    """The session a protocol message names (its ``sessionId``, read from its first bytes), if any."""
    found = _SESSION.search(data[:256])
    return found.group(1).decode() if found else None


def _as_bytes(data: Any) -> bytes:
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if isinstance(data, str):
        return data.encode()
    return b""


def _consumed(parsed: Mapping[str, Any]) -> float | None:
    consumed = parsed.get("ConsumedCapacity")
    if isinstance(consumed, dict):
        return float(consumed.get("CapacityUnits", 0.0))
    if isinstance(consumed, list) and consumed:
        return sum(float(c.get("CapacityUnits", 0.0)) for c in consumed)
    return None


def _dynamodb_items(operation: str, params: Mapping[str, Any]) -> int:
    if operation in ("BatchWriteItem", "BatchGetItem"):
        requests = params.get("RequestItems") or {}
        if operation == "BatchGetItem":
            return sum(len(r.get("Keys", [])) for r in requests.values())
        return sum(len(r) for r in requests.values())
    if operation.startswith("Transact"):
        # A transaction costs two units per item.
        return 2 * len(params.get("TransactItems") or [])
    return 1


def billed(service: str, operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any]) -> Usage:
    """What one call is billed on, and the service's own dimension."""
    if service == "translate" and operation == "TranslateText":
        return Usage({"Characters": len(params.get("Text", ""))}, language=params.get("TargetLanguageCode"))
    if service == "polly" and operation == "SynthesizeSpeech":
        characters = polly_billable_characters(params.get("Text", ""), params.get("TextType", "text"))
        return Usage({"Characters": characters}, detail=("Engine", params.get("Engine", "standard")))
    if service == "apigatewaymanagementapi" and operation == "PostToConnection":
        data = _as_bytes(params.get("Data"))
        return Usage(
            {"MessageUnits": message_units(len(data)), "MessageBytes": len(data)},
            detail=("MessageType", message_type(data)),
            session=message_session(data),
        )
    if service == "kinesis" and operation == "PutRecord":
        size = len(_as_bytes(params.get("Data"))) + len(params.get("PartitionKey", "").encode())
        return Usage({"PayloadUnits": payload_units(size), "PayloadBytes": size})
    if service == "kinesis" and operation == "PutRecords":
        sizes = [
            len(_as_bytes(r.get("Data"))) + len(r.get("PartitionKey", "").encode()) for r in params.get("Records", [])
        ]
        return Usage({"PayloadUnits": sum(map(payload_units, sizes)), "PayloadBytes": sum(sizes)})
    if service == "kinesis" and operation == "GetRecords":
        return Usage({"RetrievedBytes": sum(len(_as_bytes(r.get("Data"))) for r in parsed.get("Records", []))})
    if service == "dynamodb":
        read = operation in _DYNAMODB_READS
        units = _consumed(parsed)
        if units is None:
            # No capacity reported (a refused condition is still billed): the minimum, one unit per item.
            units = float(_dynamodb_items(operation, params))
        return Usage({"ReadUnits" if read else "WriteUnits": units})
    return Usage({})


# --- the meter --------------------------------------------------------------------------------------

_Key = tuple[str, str, str | None, str | None, str | None, tuple[str, str] | None]


class Meter:
    """Counts per call key, written as EMF by :meth:`flush` (thread safe: fan-out posts from a pool)."""

    def __init__(self, flush_interval: float = FLUSH_INTERVAL_SECONDS) -> None:
        self._counts: dict[_Key, dict[str, float]] = {}
        self._lock = threading.Lock()
        self._flush_interval = flush_interval
        self._flushed_at = time.monotonic()
        self._usage_sink: Callable[[str, SessionUsage], None] | None = None

    def keep_usage(self, sink: Callable[[str, SessionUsage], None]) -> None:
        """At every flush, hand each session's usage counted since the last one to ``sink`` (its failure is
        logged, never raised: the counts are in the EMF metrics whatever happens)."""
        self._usage_sink = sink

    # botocore's events ----------------------------------------------------------------------------
    def attach(self, client: Any) -> Any:
        """Count every call ``client`` makes; returns it."""
        events = client.meta.events
        events.register("provide-client-params", self._before)
        events.register("after-call", self._after)
        return client

    @staticmethod
    def _before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        shape = model.input_shape
        if (
            model.service_model.service_name == "dynamodb"
            and shape is not None
            and "ReturnConsumedCapacity" in shape.members
        ):
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
        context["meter_params"] = params

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        self.stand_in(model.service_model.service_name, model.name, context.get("meter_params") or {}, parsed)

    # counting ----------------------------------------------------------------------------------------
    def stand_in(
        self, service: str, operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any] | None = None
    ) -> None:
        """Count a call to ``service`` (made, or stood in for by a local engine) by its billing rule."""
        usage = billed(service, operation, params, parsed or {})
        current = _SCOPE.get() or NO_SCOPE
        self.record(
            service,
            operation,
            {"Calls": 1, **usage.units},
            session=current.session or usage.session,
            language=usage.language,
            detail=usage.detail,
        )

    def record(
        self,
        service: str,
        operation: str,
        units: Mapping[str, float],
        *,
        session: str | None = None,
        language: str | None = None,
        detail: tuple[str, str] | None = None,
    ) -> None:
        """Add ``units`` (names of :data:`METRIC_NAMES`) to the call key; unnamed parts come from the scope."""
        current = _SCOPE.get() or NO_SCOPE
        session = session or current.session or logger.get_current_keys().get("session_id")
        key: _Key = (service, operation, session, language or current.language, current.kind, detail)
        with self._lock:
            counts = self._counts.setdefault(key, {"Calls": 0.0})
            for name, value in units.items():
                counts[name] = counts.get(name, 0.0) + value
            due = time.monotonic() - self._flushed_at >= self._flush_interval
        if due:
            self.flush()

    def flush(self) -> None:
        """Write every count as EMF (one blob per call key) and start again from zero."""
        with self._lock:
            counts, self._counts = self._counts, {}
            self._flushed_at = time.monotonic()
        for key, units in counts.items():
            blob = EphemeralMetrics()
            for name, part in zip(DIMENSIONS, key[:5], strict=True):
                if part:
                    blob.add_dimension(name=name, value=part)
            if key[5]:
                blob.add_dimension(name=key[5][0], value=key[5][1])
            for unit, value in units.items():
                blob.add_metric(name=METRIC_NAMES[unit], unit=_unit(unit), value=value)
            blob.flush_metrics()
        if self._usage_sink is not None:
            self._keep(counts, self._usage_sink)

    @staticmethod
    def _keep(counts: Mapping[_Key, Mapping[str, float]], sink: Callable[[str, SessionUsage], None]) -> None:
        sessions: dict[str, SessionUsage] = {}
        for key, units in counts.items():
            if key[2]:
                sessions[key[2]] = sessions.get(key[2], SessionUsage()) + SessionUsage.from_meter(key, units)
        for session, usage in sessions.items():
            if not usage:
                continue
            try:
                sink(session, usage)
            except Exception:  # noqa: BLE001 - the estimate misses these counts; the metrics have them
                logger.exception("session usage not kept", extra={"session_id": session})


def _unit(name: str) -> MetricUnit:
    if name.endswith("Bytes"):
        return MetricUnit.Bytes
    if name == "AudioSeconds":
        return MetricUnit.Seconds
    return MetricUnit.Count


#: the one meter of this execution environment
meter = Meter()
