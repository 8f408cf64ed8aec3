"""The platform's one declaration of its artifacts, functions and routes.

``infrastructure/platform.json`` is read by Terraform (``jsondecode(file(...))`` in
``infrastructure/main.tf``) and, through this module, by the build, the guard, verify,
the local runtime's checks, the tests and the benchmarks. Adding a route is one line in
``routes``, one in ``functions``, its handler and its test (docs/ARCHITECTURE.md, "Adding a route").

The file is parsed through :class:`PlatformTable`, a pydantic model: every key is typed,
a key the model does not know is refused (a misspelt ``scheduel`` would otherwise leave a
function unscheduled without a word), and :func:`PlatformTable.load` raises
:class:`PlatformDeclarationError` naming each wrong key. What the shape cannot say (a route
naming an undeclared function, a function nothing invokes) is :meth:`PlatformTable.problems`.
``infrastructure/platform.schema.json`` is the model as JSON Schema, for editors (the file names
it in ``$schema``); ``python -m broadcast_tools.platform_table`` writes it, and a test fails when it is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_FILE = ROOT / "infrastructure" / "platform.json"
SCHEMA_FILE = ROOT / "infrastructure" / "platform.schema.json"

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
FunctionKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
#: API Gateway's own routes, or a client action in camelCase
RouteKey = Annotated[str, Field(pattern=r"^(\$connect|\$disconnect|\$default|[a-z][A-Za-z]*)$")]
Text = Annotated[str, Field(min_length=1)]
#: warm environments a caller asks of one callee at once (each one a cold start paid ahead)
WarmEnvironments = Annotated[int, Field(ge=1, le=4)]
UNKNOWN_KEY = "unknown key (tools/broadcast_tools/platform_table.py declares the keys platform.json may hold)"


class PlatformDeclarationError(ValueError):
    """platform.json does not have the declaration's shape: one problem per wrong key, each naming its path."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__("\n  ".join([f"{path} is not a valid platform declaration:", *problems]))
        self.problems = problems


class Declaration(BaseModel):
    """Strict JSON types; an unknown key is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ArtifactDeclaration(Declaration):
    """A zip Terraform deploys: a workspace package's sources, its extras' wheels, or the layer."""

    package: Name
    source: Text
    description: Text
    extras: tuple[Name, ...] = ()
    layer: bool = False
    #: variables set on every function that runs the artifact (Terraform merges them into its profile's)
    environment: dict[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")], str] = {}


class FunctionDeclaration(Declaration):
    artifact: Name
    #: ``package.module.function``
    handler: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+$")]
    #: a key of ``local.profiles`` in main.tf: the environment, permissions, timeout and memory it runs with
    profile: Name
    description: Text
    #: an EventBridge Scheduler expression, or null (written out: a forgotten schedule is not a default)
    schedule: Annotated[str, Field(pattern=r"^(rate|cron)\(.+\)$")] | None

    @property
    def handler_module(self) -> str:
        return self.handler.rsplit(".", 1)[0]


class PlatformTable(Declaration):
    #: the JSON Schema editors check the file against (platform.schema.json)
    schema_file: str = Field(default="", alias="$schema")
    #: the file's own explanation
    comment: str = Field(default="", alias="//")
    artifacts: dict[Name, ArtifactDeclaration]
    functions: dict[FunctionKey, FunctionDeclaration]
    #: route key -> function key
    routes: dict[RouteKey, FunctionKey]
    #: the function API Gateway calls to authorize $connect
    authorizer: FunctionKey
    #: function key -> the stream whose event source mapping invokes it
    stream_consumers: dict[FunctionKey, Name]
    #: function key -> the SQS queue whose event source mapping invokes it
    queue_consumers: dict[FunctionKey, Name]
    #: caller function key -> the functions it invokes itself (Lambda Invoke)
    function_calls: dict[FunctionKey, list[FunctionKey]]
    #: caller -> callee -> how many environments of the callee it warms at once (``createSession``'s warm path:
    #: ``sendAudio`` two, because its second chunk would otherwise meet a cold start; the worker one)
    warm_ups: dict[FunctionKey, dict[FunctionKey, WarmEnvironments]]

    @classmethod
    def load(cls, path: Path = PLATFORM_FILE) -> PlatformTable:
        try:
            return cls.model_validate_json(path.read_text())
        except ValidationError as exc:
            problems = [
                f"platform.json {'.'.join(str(part) for part in error['loc']) or '(file)'}: "
                + (UNKNOWN_KEY if error["type"] == "extra_forbidden" else error["msg"])
                for error in exc.errors(include_url=False)
            ]
            raise PlatformDeclarationError(path, problems) from None

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
        if self.authorizer not in self.functions:
            found.append(f"the $connect authorizer names function {self.authorizer!r}, which is not declared")
        for caller, warmed in sorted(self.warm_ups.items()):
            for callee in sorted(set(warmed) - set(self.function_calls.get(caller, []))):
                found.append(
                    f"warm_ups: {caller} warms {callee}, which function_calls.{caller} does not list "
                    "(it would have no permission to invoke it)"
                )
        for key, declared in sorted(self.functions.items()):
            if declared.artifact not in self.artifacts:
                found.append(f"function {key}: its artifact {declared.artifact!r} is not declared")
            if not self.invokers(key):
                found.append(
                    f"function {key}: nothing invokes it (no route, schedule, authorizer, stream, queue or caller)"
                )
        return found


def json_schema() -> str:
    """:class:`PlatformTable` as JSON Schema, the text of ``platform.schema.json``."""
    return json.dumps(PlatformTable.model_json_schema(by_alias=True), indent=2) + "\n"


def main() -> int:
    """Write ``infrastructure/platform.schema.json`` from the model."""
    SCHEMA_FILE.write_text(json_schema())
    print(f"wrote {SCHEMA_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
