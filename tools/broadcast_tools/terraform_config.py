"""What the build and the guard read from the root module's HCL (python-hcl2).

Functions and routes are not here: they are declared in ``infrastructure/platform.json``
(:mod:`broadcast_tools.platform_table`). The HCL holds the Lambda target platform (a
variable, overridden per environment's tfvars) and the module wiring the guard checks:
functions, routes and layers must come from that declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

from broadcast_tools.platform_table import ROOT

INFRASTRUCTURE = ROOT / "infrastructure"


@dataclass(frozen=True)
class LambdaTarget:
    runtime: str
    architecture: str


def _plain(value: Any) -> Any:
    """python-hcl2 keeps string quotes and adds ``__start_line__`` keys: drop both."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _blocks(infrastructure: Path, kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(infrastructure.glob("*.tf")):
        with path.open() as handle:
            parsed = hcl2.load(handle)
        for block in parsed.get(kind, []):
            found.update({str(_plain(name)): body for name, body in block.items()})
    return found


def _tfvars(env: str | None, infrastructure: Path) -> dict[str, Any]:
    tfvars = infrastructure / "environments" / f"{env}.tfvars"
    if env and tfvars.exists():
        with tfvars.open() as handle:
            return dict(_plain(hcl2.load(handle)))
    return {}


def lambda_target(env: str | None = None, infrastructure: Path = INFRASTRUCTURE) -> LambdaTarget:
    """The runtime and architecture Terraform deploys: variable defaults, overridden by ``env``'s tfvars."""
    defaults = {name: _plain(body).get("default") for name, body in _blocks(infrastructure, "variable").items()}
    overrides = _tfvars(env, infrastructure)
    return LambdaTarget(
        runtime=overrides.get("lambda_runtime") or defaults.get("lambda_runtime") or "python3.12",
        architecture=overrides.get("lambda_architecture") or defaults.get("lambda_architecture") or "x86_64",
    )


def deploys_site(env: str | None = None, infrastructure: Path = INFRASTRUCTURE) -> bool:
    """Whether Terraform deploys the web pages (variable ``site``'s ``enabled``, true unless ``env``'s tfvars
    says otherwise)."""
    site = _tfvars(env, infrastructure).get("site") or {}
    return bool(site.get("enabled", True)) if isinstance(site, dict) else True


def wiring_problems(infrastructure: Path = INFRASTRUCTURE) -> list[str]:
    """Modules that would deploy functions, routes or layers not taken from platform.json."""
    problems = []
    locals_: dict[str, Any] = {}
    for path in sorted(infrastructure.glob("*.tf")):
        with path.open() as handle:
            for block in hcl2.load(handle).get("locals", []):
                locals_.update(_plain(block))
    if "platform.json" not in str(locals_.get("platform", "")):
        problems.append('local.platform must be jsondecode(file("${path.module}/platform.json"))')
    for local, key in (("functions", "functions"), ("routes", "routes"), ("authorizer_function", "authorizer")):
        if str(locals_.get(local, "")) != f"${{local.platform.{key}}}":
            problems.append(f"local.{local} must be local.platform.{key}")
    for name, body in _blocks(infrastructure, "module").items():
        source = str(_plain(body.get("source", "")))
        artifact = str(body.get("artifact", ""))
        if source.endswith("/lambda_layer") and 'local.artifacts["' not in artifact:
            problems.append(f'module {name}: its artifact must be local.artifacts["<name>"]')
        elif source.endswith("/lambda_function") and (
            body.get("for_each") != "${local.functions}" or "each.value.artifact" not in artifact
        ):
            problems.append(
                f"module {name}: functions must be declared in platform.json "
                "(for_each = local.functions, artifact = local.artifacts[each.value.artifact])"
            )
        elif source.endswith("/websocket_api"):
            if "local.routes" not in str(body.get("routes", "")):
                problems.append(f"module {name}: its routes must come from local.routes")
            if "local.authorizer_function" not in str(body.get("authorizer", "")):
                problems.append(f"module {name}: its authorizer must be local.authorizer_function")
    return problems
