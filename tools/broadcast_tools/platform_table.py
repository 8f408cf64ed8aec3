"""The platform's one declaration of its artifacts, functions and routes.

``infrastructure/platform.json`` is read by Terraform (``jsondecode(file(...))`` in
``infrastructure/main.tf``) and, through this module, by the build, the guard, verify,
the local runtime's checks, the tests and the benchmarks. Adding a route is one line in
``routes``, one in ``functions``, its handler and its test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_FILE = ROOT / "infrastructure" / "platform.json"


@dataclass(frozen=True)
class ArtifactDeclaration:
    """A zip Terraform deploys: a workspace package's sources, its extras' wheels, or the layer."""

    name: str
    package: str
    source: str
    extras: tuple[str, ...] = ()
    layer: bool = False
    description: str = ""
    #: variables set on every function that runs the artifact (Terraform merges them into its profile's)
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FunctionDeclaration:
    key: str
    artifact: str
    handler: str
    profile: str
    description: str
    schedule: str | None = None

    @property
    def handler_module(self) -> str:
        return self.handler.rsplit(".", 1)[0]


@dataclass(frozen=True)
class PlatformTable:
    artifacts: dict[str, ArtifactDeclaration]
    functions: dict[str, FunctionDeclaration]
    #: route key -> function key
    routes: dict[str, str]
    #: the function API Gateway calls to authorize $connect
    authorizer: str
    #: function key -> the stream whose event source mapping invokes it
    stream_consumers: dict[str, str]
    #: function key -> the SQS queue whose event source mapping invokes it
    queue_consumers: dict[str, str]
    #: caller function key -> the functions it invokes itself (Lambda Invoke)
    function_calls: dict[str, list[str]]

    @classmethod
    def load(cls, path: Path = PLATFORM_FILE) -> PlatformTable:
        data = json.loads(path.read_text())
        return cls(
            artifacts={
                name: ArtifactDeclaration(
                    name=name,
                    package=spec["package"],
                    source=spec["source"],
                    extras=tuple(spec.get("extras", ())),
                    layer=bool(spec.get("layer", False)),
                    description=spec.get("description", ""),
                    environment={str(k): str(v) for k, v in spec.get("environment", {}).items()},
                )
                for name, spec in data.get("artifacts", {}).items()
            },
            functions={
                key: FunctionDeclaration(
                    key=key,
                    artifact=spec["artifact"],
                    handler=spec["handler"],
                    profile=spec["profile"],
                    description=spec.get("description", ""),
                    schedule=spec.get("schedule"),
                )
                for key, spec in data.get("functions", {}).items()
            },
            routes=dict(data.get("routes", {})),
            authorizer=data.get("authorizer", ""),
            stream_consumers=dict(data.get("stream_consumers", {})),
            queue_consumers=dict(data.get("queue_consumers", {})),
            function_calls={caller: list(callees) for caller, callees in data.get("function_calls", {}).items()},
        )

    @property
    def layers(self) -> list[str]:
        return [name for name, artifact in self.artifacts.items() if artifact.layer]

    @property
    def scheduled(self) -> set[str]:
        return {key for key, fn in self.functions.items() if fn.schedule}

    @property
    def asynchronous(self) -> set[str]:
        """Functions Lambda may invoke asynchronously, as Terraform's ``local.asynchronous_functions``: the
        schedules' (EventBridge Scheduler invokes asynchronously) and every callee of another function."""
        return self.scheduled | {callee for callees in self.function_calls.values() for callee in callees}

    @property
    def actions(self) -> list[str]:
        """The client actions: every route key but API Gateway's own ``$connect``, ``$disconnect``, ``$default``."""
        return sorted(route for route in self.routes if not route.startswith("$"))

    def route_function(self, route_key: str) -> FunctionDeclaration:
        """The function integrated with a route; an unknown route lands on ``$default``, as on API Gateway."""
        return self.functions[self.routes.get(route_key, self.routes["$default"])]

    def invokers(self, function: str) -> list[str]:
        found = [f"route {route}" for route, target in self.routes.items() if target == function]
        if function == self.authorizer:
            found.append("the $connect authorizer")
        if function in self.scheduled:
            found.append(f"schedule {self.functions[function].schedule}")
        if function in self.stream_consumers:
            found.append(f"the event source mapping on stream {self.stream_consumers[function]}")
        if function in self.queue_consumers:
            found.append(f"the event source mapping on queue {self.queue_consumers[function]}")
        # A function that invokes itself (translate_segment's fan-out slices) is not thereby invoked.
        found += [
            f"function {caller}"
            for caller, callees in self.function_calls.items()
            if function in callees and caller != function
        ]
        return found

    def problems(self) -> list[str]:
        """What makes the declaration itself unusable, whatever has been built."""
        found: list[str] = []
        if not self.functions:
            found.append("platform.json declares no functions: there is nothing to follow")
        if not self.routes:
            found.append("platform.json declares no routes: the WebSocket API would have no routes")
        for route, function in sorted(self.routes.items()):
            if function not in self.functions:
                found.append(f"route {route} has no integration: function {function!r} is not declared")
        for function in sorted(self.stream_consumers):
            if function not in self.functions:
                found.append(f"stream_consumers names function {function!r}, which is not declared")
        for function in sorted(self.queue_consumers):
            if function not in self.functions:
                found.append(f"queue_consumers names function {function!r}, which is not declared")
        for caller, callees in sorted(self.function_calls.items()):
            for function in [caller, *callees]:
                if function not in self.functions:
                    found.append(f"function_calls names function {function!r}, which is not declared")
        if self.authorizer and self.authorizer not in self.functions:
            found.append(f"the $connect authorizer names function {self.authorizer!r}, which is not declared")
        for key, declared in sorted(self.functions.items()):
            if declared.artifact not in self.artifacts:
                found.append(f"function {key}: its artifact {declared.artifact!r} is not declared")
            if not self.invokers(key):
                found.append(
                    f"function {key}: nothing invokes it (no route, schedule, authorizer, stream, queue or caller)"
                )
        return found
