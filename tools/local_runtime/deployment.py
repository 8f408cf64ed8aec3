"""What Terraform deployed, read back from the emulator, with the built code it runs.

The gateway serves exactly these routes: a route missing from Terraform is missing
here too. A function runs the artifact in ``dist/`` whose SHA-256 equals the
``CodeSha256`` the emulator reports, and each of its layers likewise.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broadcast_tools.artifacts import ROOT

INTEGRATION_FUNCTION = re.compile(r"functions/(?P<arn>arn:[^/]+)/invocations")


class DeploymentError(RuntimeError):
    """The emulator's deployment cannot be run locally; the message says why."""


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    arn: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    #: the event invoke configuration (asynchronous invocations): the on-failure SQS queue's ARN, and retries
    on_failure: str | None = None
    maximum_retry_attempts: int = 2


@dataclass(frozen=True)
class Authorizer:
    function: str
    identity_sources: tuple[str, ...]


@dataclass
class Deployment:
    api_id: str
    api_name: str
    stage: str
    region: str
    routes: dict[str, str] = field(default_factory=dict)
    authorizer: Authorizer | None = None
    functions: dict[str, FunctionConfig] = field(default_factory=dict)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    #: route key -> (rate per second, burst): the stage's route throttles, ``"*"`` its default
    throttles: dict[str, tuple[float, float]] = field(default_factory=dict)


def function_name(arn_or_name: str) -> str:
    """``arn:aws:lambda:…:function:NAME[:qualifier]`` or ``NAME`` → ``NAME``."""
    if ":function:" in arn_or_name:
        return arn_or_name.split(":function:", 1)[1].split(":", 1)[0]
    return arn_or_name


class DeploymentReader:
    def __init__(self, clients: Any, dist: Path | None = None, cache: Path | None = None) -> None:
        self._clients = clients
        self._dist = dist or ROOT / "dist"
        self._cache = cache or ROOT / ".local" / "runtime" / "code"

    def read(self, api_name: str | None, stage: str) -> Deployment:
        api = self._find_api(api_name)
        apigw = self._clients.apigatewayv2
        deployment = Deployment(api_id=api["ApiId"], api_name=api["Name"], stage=stage, region=apigw.meta.region_name)
        integrations = {i["IntegrationId"]: i for i in _items(apigw.get_integrations, ApiId=api["ApiId"])}
        for route in _items(apigw.get_routes, ApiId=api["ApiId"]):
            target = route.get("Target", "")
            integration = integrations.get(target.removeprefix("integrations/"))
            match = INTEGRATION_FUNCTION.search(integration.get("IntegrationUri", "")) if integration else None
            if match is None:
                continue  # a route with no Lambda integration cannot be served (nor deployed on AWS)
            deployment.routes[route["RouteKey"]] = function_name(match["arn"])
            if route["RouteKey"] == "$connect" and route.get("AuthorizationType") == "CUSTOM":
                authorizer = apigw.get_authorizer(ApiId=api["ApiId"], AuthorizerId=route["AuthorizerId"])
                uri = INTEGRATION_FUNCTION.search(authorizer["AuthorizerUri"])
                if uri is None:
                    raise DeploymentError(f"authorizer {authorizer['Name']} has no Lambda function")
                deployment.authorizer = Authorizer(
                    function_name(uri["arn"]), tuple(authorizer.get("IdentitySource") or ())
                )
        deployment.throttles = self._throttles(api["ApiId"], stage)
        names = set(deployment.routes.values())
        if deployment.authorizer:
            names.add(deployment.authorizer.function)
        deployment.schedules = self._schedules()
        names |= {function_name(s["function"]) for s in deployment.schedules}
        manifest = self._manifest()
        for name in sorted(names):
            deployment.functions[name] = self._function(name, manifest)
        return deployment

    def _throttles(self, api_id: str, stage: str) -> dict[str, tuple[float, float]]:
        """The stage's throttling targets as API Gateway applies them: per route, else the stage default."""
        try:
            settings = self._clients.apigatewayv2.get_stage(ApiId=api_id, StageName=stage)
        except Exception:  # noqa: BLE001 - a stage the emulator does not describe is served unthrottled
            return {}
        throttles = {}
        for key, route in [
            ("*", settings.get("DefaultRouteSettings") or {}),
            *(settings.get("RouteSettings") or {}).items(),
        ]:
            if route.get("ThrottlingRateLimit"):
                rate = float(route["ThrottlingRateLimit"])
                throttles[key] = (rate, float(route.get("ThrottlingBurstLimit") or rate))
        return throttles

    def function(self, name: str) -> FunctionConfig:
        return self._function(function_name(name), self._manifest())

    def _find_api(self, api_name: str | None) -> dict[str, Any]:
        apis = [a for a in _items(self._clients.apigatewayv2.get_apis) if a.get("ProtocolType") == "WEBSOCKET"]
        if api_name:
            apis = [a for a in apis if a["Name"] == api_name]
        if len(apis) != 1:
            found = ", ".join(a["Name"] for a in apis) or "none"
            raise DeploymentError(
                f"expected one WebSocket API{f' named {api_name}' if api_name else ''} in the emulator, found {found}; "
                "run `make apply ENV=local`"
            )
        return apis[0]

    def _manifest(self) -> dict[str, Any]:
        try:
            return json.loads((self._dist / "manifest.json").read_text())
        except FileNotFoundError:
            raise DeploymentError(f"{self._dist / 'manifest.json'} is missing: run `make build`") from None

    def _code_for(self, sha256: str, manifest: dict[str, Any], what: str) -> Path:
        for name, entry in manifest["artifacts"].items():
            if entry["sha256"] == sha256:
                target = self._cache / f"{name}-{sha256.replace('/', '_').replace('+', '-')[:16]}"
                if not target.is_dir():
                    staging = target.with_suffix(".tmp")
                    with zipfile.ZipFile(self._dist / entry["path"]) as archive:
                        archive.extractall(staging)
                    staging.rename(target)
                return target
        raise DeploymentError(
            f"{what} runs code {sha256}, which matches no artifact in {self._dist}: "
            "run `make build` and `make apply ENV=local` again"
        )

    def _function(self, name: str, manifest: dict[str, Any]) -> FunctionConfig:
        config = self._clients.lambda_.get_function(FunctionName=name)["Configuration"]
        layers = []
        for layer in config.get("Layers", []):
            arn = layer["Arn"]
            layer_name, version = arn.split(":layer:", 1)[1].rsplit(":", 1)
            content = self._clients.lambda_.get_layer_version(LayerName=layer_name, VersionNumber=int(version))
            layer_dir = self._code_for(content["Content"]["CodeSha256"], manifest, f"layer {arn}")
            layers.append(layer_dir / "python")
        try:
            invoke_config = self._clients.lambda_.get_function_event_invoke_config(FunctionName=name)
        except self._clients.lambda_.exceptions.ResourceNotFoundException:
            invoke_config = {}
        return FunctionConfig(
            on_failure=invoke_config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
            maximum_retry_attempts=int(invoke_config.get("MaximumRetryAttempts", 2)),
            name=name,
            arn=config["FunctionArn"],
            handler=config["Handler"],
            runtime=config.get("Runtime", ""),
            timeout=int(config.get("Timeout", 3)),
            memory_size=int(config.get("MemorySize", 128)),
            environment=dict(config.get("Environment", {}).get("Variables", {})),
            code_dir=self._code_for(config["CodeSha256"], manifest, f"function {name}"),
            layer_dirs=tuple(layers),
        )

    def _schedules(self) -> list[dict[str, Any]]:
        scheduler = self._clients.scheduler
        found = []
        for summary in _items(scheduler.list_schedules, key="Schedules"):
            detail = scheduler.get_schedule(Name=summary["Name"], GroupName=summary.get("GroupName", "default"))
            if detail.get("State", "ENABLED") != "ENABLED":
                continue
            found.append(
                {
                    "name": detail["Name"],
                    "expression": detail["ScheduleExpression"],
                    "function": detail["Target"]["Arn"],
                    "input": detail["Target"].get("Input", "{}"),
                    "arn": detail.get("Arn", detail["Name"]),
                    "dead_letter": detail["Target"].get("DeadLetterConfig", {}).get("Arn"),
                }
            )
        return found


def _items(operation: Any, key: str = "Items", **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = operation(**kwargs)
        items += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return items
        kwargs["NextToken"] = token
