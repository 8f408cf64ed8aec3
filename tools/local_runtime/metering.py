"""What one run of the local platform would be billed on (issue #22).

Three sources, summed for one run:

* the cost meter's EMF lines (``broadcast_shared.meter``: every AWS call with its billable units, by
  function, service, operation, session, language and segment kind), read from the function logs the
  run wrote (:class:`LogWindow`), with the log bytes themselves (CloudWatch Logs ingestion);
* what only the gateway sees (:class:`GatewayUsage`): WebSocket messages in and out in 32 KB units by
  kind and by the role of the connection, and connection seconds by role;
* what only the runtime sees (:class:`InvocationUsage`): Lambda requests and GB-seconds per function at
  its deployed memory size (the environment's start included: Lambda bills the init phase too).
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broadcast_shared.meter import DIMENSIONS, METRIC_NAMES, message_units

#: every cost meter blob has this metric
CALLS_METRIC = METRIC_NAMES["Calls"]


def message_kind(data: str | bytes) -> str:
    """A protocol message's ``type`` (``action`` for inbound ones; ``translation/final`` or ``/partial``);
    ``binary`` or ``other`` otherwise."""
    if isinstance(data, bytes):
        try:
            data = data.decode()
        except UnicodeDecodeError:
            return "binary"
    try:
        message = json.loads(data)
    except ValueError:
        return "other"
    if not isinstance(message, dict):
        return "other"
    kind = message.get("type") or message.get("action") or ("gatewayError" if "message" in message else "other")
    if kind == "translation":
        # Finals and partials are priced apart (the floor has finals only).
        return "translation/partial" if message.get("isPartial") else "translation/final"
    return str(kind)


@dataclass(frozen=True)
class CallKey:
    function: str
    service: str
    operation: str
    session: str = ""
    language: str = ""
    segment_kind: str = ""
    #: the service's own dimension as ``name=value`` (Polly's ``Engine=neural``, a message's ``MessageType``)
    detail: str = ""


@dataclass(frozen=True)
class EmfLine:
    """One log line in CloudWatch's embedded metric format."""

    #: the dimensions its metrics are written under (its first dimension set), by name
    dimensions: dict[str, str]
    #: its metrics, by name (a list of values summed)
    values: dict[str, float]


def read_emf(line: str) -> EmfLine | None:
    """``line`` read as an EMF blob; None for any other line."""
    if not line.startswith("{") or '"_aws"' not in line:
        return None
    try:
        blob = json.loads(line)
        directives = blob["_aws"]["CloudWatchMetrics"]
        names = [metric["Name"] for directive in directives for metric in directive["Metrics"]]
        dimension_names: list[str] = next(iter(directives[0]["Dimensions"]), []) if directives else []
    except (ValueError, KeyError, TypeError):
        return None
    values: dict[str, float] = {}
    for name in names:
        value = blob.get(name, 0)
        values[name] = values.get(name, 0) + (sum(value) if isinstance(value, list) else value)
    return EmfLine({name: str(blob[name]) for name in dimension_names if name in blob}, values)


def meter_counts(function: str, lines: Iterable[str]) -> dict[CallKey, dict[str, float]]:
    """The cost meter's counts in one function's log lines, summed per call key."""
    counts: dict[CallKey, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for line in lines:
        # most lines are no meter blob: they are passed over unparsed
        emf = read_emf(line) if f'"{CALLS_METRIC}"' in line else None
        if emf is None:
            continue
        dimensions = emf.dimensions
        details = sorted(f"{k}={v}" for k, v in dimensions.items() if k not in DIMENSIONS and k != "service")
        service, operation, session, language, segment_kind = (dimensions.get(name, "") for name in DIMENSIONS)
        key = CallKey(function, service, operation, session, language, segment_kind, ",".join(details))
        for name, value in emf.values.items():
            counts[key][name] += value
    return counts


class LogWindow:
    """The function logs written between :meth:`__init__` and :meth:`read` (files named ``<function>.log``)."""

    def __init__(self, log_dir: Path) -> None:
        self._dir = log_dir
        self._start = {path.name: path.stat().st_size for path in log_dir.glob("*.log")} if log_dir.is_dir() else {}

    def read(self) -> dict[str, str]:
        """Each function's new log text, by function name."""
        texts: dict[str, str] = {}
        for path in sorted(self._dir.glob("*.log")):
            with path.open("rb") as log:
                log.seek(self._start.get(path.name, 0))
                texts[path.name.removesuffix(".log")] = log.read().decode(errors="replace")
        return texts


class GatewayUsage:
    """Messages in and out (count, 32 KB units, bytes) by role and kind; connection seconds by role; the
    messages sent to each connection by kind (:meth:`sent_to`: what one client received)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
        self.connection_seconds: dict[str, float] = defaultdict(float)
        self.connections: Counter[str] = Counter()
        self._sent: dict[str, Counter[str]] = defaultdict(Counter)

    def message(self, direction: str, role: str, data: str | bytes, connection_id: str = "") -> None:
        size = len(data.encode() if isinstance(data, str) else data)
        kind = message_kind(data)
        with self._lock:
            counts = self.messages[(direction, role, kind)]
            counts["messages"] += 1
            counts["units"] += message_units(size)
            counts["bytes"] += size
            if direction == "out" and connection_id:
                self._sent[connection_id][kind] += 1

    def sent_to(self, connection_id: str) -> Counter[str]:
        """The messages sent to one connection, by kind (``translation/partial``, ``translation/final``...)."""
        with self._lock:
            return Counter(self._sent.get(connection_id, Counter()))

    def connection_closed(self, role: str, seconds: float) -> None:
        with self._lock:
            self.connection_seconds[role] += seconds
            self.connections[role] += 1


class InvocationUsage:
    """Lambda requests and GB-seconds (duration rounded up to the millisecond) per function."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.gb_seconds: dict[str, float] = defaultdict(float)
        self.memory_mb: dict[str, int] = {}

    def invoked(self, function: str, memory_mb: int, seconds: float) -> None:
        billed = math.ceil(seconds * 1000) / 1000
        with self._lock:
            self.requests[function] += 1
            self.gb_seconds[function] += billed * memory_mb / 1024
            self.memory_mb[function] = memory_mb


@dataclass
class RunUsage:
    """The gateway's and the runtime's counts for one run of the local platform."""

    gateway: GatewayUsage = field(default_factory=GatewayUsage)
    invocations: InvocationUsage = field(default_factory=InvocationUsage)


def run_counts(usage: RunUsage, logs: dict[str, str], function_prefix: str = "") -> dict[str, Any]:
    """One run's counts as JSON-ready data: what ``broadcast_tools.cost`` prices.

    Functions are named without ``function_prefix`` (``speech-broadcast-local-``), as ``platform.json`` names
    them with dashes (``translate-segment``).
    """

    def short(name: str) -> str:
        return name.removeprefix(function_prefix)

    calls = []
    for function, text in logs.items():
        for key, metrics in meter_counts(short(function), text.splitlines()).items():
            calls.append({**key.__dict__, "metrics": dict(metrics)})
    gateway = usage.gateway
    return {
        "calls": calls,
        "messages": [
            {"direction": d, "role": r, "kind": k, **counts} for (d, r, k), counts in sorted(gateway.messages.items())
        ],
        "connectionSeconds": dict(gateway.connection_seconds),
        "connections": dict(gateway.connections),
        "lambda": {
            short(name): {
                "requests": usage.invocations.requests[name],
                "gbSeconds": usage.invocations.gb_seconds[name],
                "memoryMb": usage.invocations.memory_mb[name],
            }
            for name in sorted(usage.invocations.requests)
        },
        "logBytes": {short(name): len(text.encode()) for name, text in logs.items() if text},
    }
