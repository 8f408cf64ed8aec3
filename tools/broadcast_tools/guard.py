"""The artifact guard: refuses to let Terraform deploy a route that cannot work.

It only checks, never builds. It parses the root module's HCL (python-hcl2), follows
every route -> integration -> function -> artifact, every layer and every schedule
target, and compares each artifact with ``dist/manifest.json`` and its sources. It
fails, naming the artifact and every route it would leave without a working
integration, when an artifact is missing, empty, altered since the build, older than
its sources, or lacks the handler a function names; and it refuses a route whose
function is not declared and a function that nothing invokes.

    python -m broadcast_tools.guard [--root .] [--dist dist]
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import hcl2

from broadcast_tools.artifacts import ROOT, all_specs, code_sha256, read_manifest, sources_digest

ARTIFACT_REFERENCE = re.compile(r'local\.artifacts\["(?P<name>[^"]+)"\]')


def _unquote(value: object) -> object:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    return value


@dataclass
class Deployment:
    """What the root module declares, as the guard follows it."""

    functions: dict[str, dict] = field(default_factory=dict)
    routes: dict[str, str] = field(default_factory=dict)
    authorizer: str | None = None
    #: function key -> the stream whose event source mapping invokes it
    stream_consumers: dict[str, str] = field(default_factory=dict)
    #: function key -> the functions it invokes itself (Lambda Invoke)
    function_calls: dict[str, list[str]] = field(default_factory=dict)
    layers: list[str] = field(default_factory=list)
    runtime: str | None = None
    architecture: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def scheduled(self) -> set[str]:
        return {key for key, fn in self.functions.items() if fn.get("schedule")}

    def invokers(self, function: str) -> list[str]:
        found = [f"route {route}" for route, target in self.routes.items() if target == function]
        if function == self.authorizer:
            found.append("the $connect authorizer")
        if function in self.scheduled:
            found.append(f"schedule {self.functions[function]['schedule']}")
        if function in self.stream_consumers:
            found.append(f"the event source mapping on stream {self.stream_consumers[function]}")
        # A function that invokes itself (translate_segment's fan-out slices) is not thereby invoked.
        found += [
            f"function {caller}"
            for caller, callees in self.function_calls.items()
            if function in callees and caller != function
        ]
        return found


def read_deployment(infrastructure: Path, env: str | None = None) -> Deployment:
    """Parse the root module; with ``env``, that environment's tfvars override variable defaults."""
    deployment = Deployment()
    locals_: dict = {}
    modules: dict[str, dict] = {}
    variables: dict[str, dict] = {}
    for path in sorted(infrastructure.glob("*.tf")):
        with path.open() as handle:
            parsed = hcl2.load(handle)
        for block in parsed.get("locals", []):
            locals_.update(_unquote(block))
        for block in parsed.get("module", []):
            modules.update({_unquote(name): body for name, body in block.items()})
        for block in parsed.get("variable", []):
            variables.update({_unquote(name): _unquote(body) for name, body in block.items()})

    deployment.functions = locals_.get("functions") or {}
    deployment.routes = locals_.get("routes") or {}
    deployment.authorizer = locals_.get("authorizer_function")
    deployment.stream_consumers = locals_.get("stream_consumers") or {}
    deployment.function_calls = locals_.get("function_calls") or {}
    overrides: dict = {}
    tfvars = infrastructure / "environments" / f"{env}.tfvars"
    if env and tfvars.exists():
        with tfvars.open() as handle:
            overrides = _unquote(hcl2.load(handle))
    deployment.runtime = overrides.get("lambda_runtime") or (variables.get("lambda_runtime") or {}).get("default")
    deployment.architecture = overrides.get("lambda_architecture") or (variables.get("lambda_architecture") or {}).get(
        "default"
    )
    if not deployment.functions:
        deployment.problems.append("local.functions is missing or empty: there is nothing to follow")
    if not deployment.routes:
        deployment.problems.append("local.routes is missing or empty: the WebSocket API would have no routes")

    for name, body in modules.items():
        source = str(_unquote(body.get("source", "")))
        artifact = str(body.get("artifact", ""))
        if source.endswith("/lambda_layer"):
            match = ARTIFACT_REFERENCE.search(artifact)
            if match:
                deployment.layers.append(match["name"])
            else:
                deployment.problems.append(f'module {name}: its artifact must be local.artifacts["<name>"]')
        elif source.endswith("/lambda_function"):
            if body.get("for_each") != "${local.functions}" or "each.value.artifact" not in artifact:
                deployment.problems.append(
                    f"module {name}: functions must be declared in local.functions "
                    "(for_each = local.functions, artifact = local.artifacts[each.value.artifact])"
                )
        elif source.endswith("/websocket_api"):
            if "local.routes" not in str(body.get("routes", "")):
                deployment.problems.append(f"module {name}: its routes must come from local.routes")
            if "local.authorizer_function" not in str(body.get("authorizer", "")):
                deployment.problems.append(f"module {name}: its authorizer must be local.authorizer_function")
    return deployment


@dataclass
class Verdict:
    problems: list[str]
    summary: str

    @property
    def ok(self) -> bool:
        return not self.problems


def check(root: Path = ROOT, dist: Path | None = None, env: str | None = None) -> Verdict:
    dist = dist or root / "dist"
    deployment = read_deployment(root / "infrastructure", env)
    problems = list(deployment.problems)

    for route, function in sorted(deployment.routes.items()):
        if function not in deployment.functions:
            problems.append(f"route {route} has no integration: function {function!r} is not in local.functions")
    for function in sorted(deployment.stream_consumers):
        if function not in deployment.functions:
            problems.append(f"local.stream_consumers names function {function!r}, which is not declared")
    for caller, callees in sorted(deployment.function_calls.items()):
        for function in [caller, *callees]:
            if function not in deployment.functions:
                problems.append(f"local.function_calls names function {function!r}, which is not declared")
    if deployment.authorizer and deployment.authorizer not in deployment.functions:
        problems.append(f"the $connect authorizer names function {deployment.authorizer!r}, which is not declared")
    for function in sorted(deployment.functions):
        if not deployment.invokers(function):
            problems.append(
                f"function {function}: nothing invokes it (no route, schedule, authorizer, stream or caller)"
            )

    # Which routes each artifact serves: a function's own artifact, and every layer for all of them.
    served: dict[str, set[str]] = defaultdict(set)
    for route, function in deployment.routes.items():
        spec = deployment.functions.get(function)
        if spec is None:
            continue
        served[spec["artifact"]].add(route)
        for layer in deployment.layers:
            served[layer].add(route)
    wanted = {fn["artifact"] for fn in deployment.functions.values()} | set(deployment.layers)

    manifest = read_manifest(dist)
    specs = {spec.name: spec for spec in all_specs(root)}
    if manifest is None:
        problems.append(f"{dist / 'manifest.json'} is missing: run `make build`")
        for artifact in sorted(wanted):
            problems.append(_artifact_problem(artifact, "is missing (no manifest)", served[artifact]))
        return Verdict(problems, "")

    runtime, architecture = manifest.get("runtime"), manifest.get("architecture")
    if deployment.runtime and runtime != deployment.runtime:
        problems.append(f"artifacts were built for {runtime}, Terraform deploys {deployment.runtime}: run `make build`")
    if deployment.architecture and architecture != deployment.architecture:
        problems.append(f"artifacts were built for {architecture}, Terraform deploys {deployment.architecture}")

    for artifact in sorted(wanted):
        entry = manifest.get("artifacts", {}).get(artifact)
        spec = specs.get(artifact)
        path = dist / (entry["path"] if entry else f"{artifact}.zip")
        if spec is None:
            problems.append(_artifact_problem(artifact, "has no sources in this repository", served[artifact]))
        elif entry is None or not path.exists():
            problems.append(_artifact_problem(artifact, f"is missing ({path.name})", served[artifact]))
        elif path.stat().st_size == 0:
            problems.append(_artifact_problem(artifact, f"is empty ({path.name})", served[artifact]))
        elif code_sha256(path) != entry.get("sha256"):
            problems.append(
                _artifact_problem(artifact, "differs from the manifest (changed after the build)", served[artifact])
            )
        elif sources_digest(spec, runtime, architecture, root) != entry.get("sourcesDigest"):
            problems.append(_artifact_problem(artifact, "is older than its sources", served[artifact]))

    for function, spec in sorted(deployment.functions.items()):
        entry = manifest.get("artifacts", {}).get(spec["artifact"])
        path = dist / entry["path"] if entry else None
        if path is None or not path.exists() or path.stat().st_size == 0:
            continue
        module_file = spec["handler"].rsplit(".", 1)[0].replace(".", "/") + ".py"
        try:
            with zipfile.ZipFile(path) as archive:
                present = module_file in archive.namelist()
        except zipfile.BadZipFile:
            problems.append(_artifact_problem(spec["artifact"], "is not a valid zip", served[spec["artifact"]]))
            continue
        if not present:
            routes = sorted(r for r, f in deployment.routes.items() if f == function)
            problems.append(
                f"function {function}: handler {spec['handler']} needs {module_file}, not in {path.name}"
                + (f"; routes left without a working integration: {', '.join(routes)}" if routes else "")
            )

    summary = (
        f"{len(deployment.routes)} routes -> {len(deployment.functions)} functions -> "
        f"{len(wanted)} artifacts ({', '.join(sorted(wanted))}), {len(deployment.scheduled)} schedules"
    )
    return Verdict(problems, summary)


def _artifact_problem(artifact: str, what: str, routes: set[str]) -> str:
    listing = ", ".join(sorted(routes)) if routes else "none"
    return f"artifact {artifact} {what}; routes left without a working integration: {listing}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="check that every route can be deployed with its integration")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--dist", type=Path, default=None)
    parser.add_argument("--env", default=None, help="read this environment's tfvars too")
    args = parser.parse_args(argv)
    verdict = check(args.root.resolve(), args.dist.resolve() if args.dist else None, args.env)
    if verdict.ok:
        print(f"guard: ok: {verdict.summary}")
        return 0
    print("guard: refusing to deploy:", file=sys.stderr)
    for problem in verdict.problems:
        print(f"  - {problem}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
