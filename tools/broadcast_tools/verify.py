"""Post-deploy audit: does the live deployment serve what Terraform declares and ``make build`` built?

    python -m broadcast_tools.verify --env dev

Checks, naming every gap it finds (exit 1 if any, 0 if none):

* every declared route exists, with an integration whose function exists and is Active;
* every declared function's ``CodeSha256`` equals its artifact's in ``dist/manifest.json``;
* ``$connect`` uses the declared REQUEST authorizer, which calls the authorizer function;
* every scheduled function has an enabled schedule that targets it;
* the site (when Terraform deployed it): its pages and a ``config.json`` that parses and names
  this deployment's WebSocket URL and sign-in client. Over HTTPS at ``site_url`` (CloudFront)
  in AWS; in the emulator, which serves no CloudFront, from the site's bucket instead (noted);
* the stage serves the API's newest deployment (API Gateway keeps no time on routes or
  integrations; the Terraform module redeploys whenever any of them changes, so a stage
  behind the newest deployment has missed a change). Not checkable in the emulator,
  which has no deployments (``create_deployment = false``): reported as skipped.

It reads Terraform's outputs (API id, stage, function names, schedule group) and uses
boto3, so ``AWS_ENDPOINT_URL`` points it at an emulator.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from broadcast_tools import emulator
from broadcast_tools.artifacts import ROOT, read_manifest
from broadcast_tools.platform_table import PlatformTable
from broadcast_tools.terraform import cli_config, provider_mirror, workdir


def terraform_outputs(env: str, mirror: str | None, base: Path | None = None, root: Path = ROOT) -> dict[str, Any]:
    shown = subprocess.run(
        [shutil.which("terraform") or "terraform", "output", "-json"],
        cwd=workdir(env, root, base),
        env=cli_config(mirror, root),
        capture_output=True,
        text=True,
    )
    if shown.returncode != 0:
        raise SystemExit(f"verify: terraform output failed (apply first?): {shown.stderr.strip()}")
    return {name: value["value"] for name, value in json.loads(shown.stdout).items()}


class Auditor:
    def __init__(self, outputs: dict[str, Any], root: Path, env: str, endpoint: str | None = None) -> None:
        # The local environment's emulator takes the same test credentials its provider block uses.
        credentials = emulator.CREDENTIALS if env == "local" else {}
        session = boto3.session.Session(region_name=outputs.get("region"), **credentials)
        self._api = session.client("apigatewayv2", endpoint_url=endpoint)
        self._lambda = session.client("lambda", endpoint_url=endpoint)
        self._scheduler = session.client("scheduler", endpoint_url=endpoint)
        self._s3 = session.client("s3", endpoint_url=endpoint)
        self._emulated = endpoint is not None
        self._outputs = outputs
        self._declared = PlatformTable.load(root / "infrastructure" / "platform.json")
        self._manifest = (read_manifest(root / "dist") or {}).get("artifacts", {})
        self.gaps: list[str] = []
        self.notes: list[str] = []

    def run(self) -> list[str]:
        api_id = self._outputs["api_id"]
        routes = {r["RouteKey"]: r for r in self._paged(self._api.get_routes, ApiId=api_id)}
        integrations = {i["IntegrationId"]: i for i in self._paged(self._api.get_integrations, ApiId=api_id)}
        for key, function in sorted(self._declared.routes.items()):
            self._route(key, function, routes, integrations)
        for function in sorted(self._declared.functions):
            self._function(function)
        self._authorizer(api_id, routes.get("$connect"))
        self._schedules()
        self.audit_site()
        self._stage(api_id)
        return self.gaps

    def _paged(self, call: Any, **kwargs: Any) -> list[dict[str, Any]]:
        items, token = [], None
        while True:
            page = call(**kwargs, **({"NextToken": token} if token else {}))
            items += page.get("Items", [])
            token = page.get("NextToken")
            if not token:
                return items

    def _route(self, key: str, function: str, routes: dict, integrations: dict) -> None:
        route = routes.get(key)
        if route is None:
            self.gaps.append(f"route {key}: missing")
            return
        integration = integrations.get((route.get("Target") or "").removeprefix("integrations/"))
        if integration is None:
            self.gaps.append(f"route {key}: has no integration")
            return
        expected = self._outputs["functions"].get(function)
        if f":function:{expected}/" not in integration.get("IntegrationUri", "") + "/":
            self.gaps.append(f"route {key}: integrates with {integration.get('IntegrationUri')}, not {expected}")

    def _function(self, function: str) -> None:
        name = self._outputs["functions"].get(function)
        if name is None:
            self.gaps.append(f"function {function}: not in Terraform's outputs (apply first)")
            return
        try:
            config = self._lambda.get_function_configuration(FunctionName=name)
        except ClientError:
            self.gaps.append(f"function {name}: missing")
            return
        if config.get("State", "Active") != "Active":
            self.gaps.append(f"function {name}: state {config.get('State')}, not Active")
        artifact = self._declared.functions[function].artifact
        built = (self._manifest.get(artifact) or {}).get("sha256")
        if built != config.get("CodeSha256"):
            self.gaps.append(f"function {name}: runs code {config.get('CodeSha256')}, artifact {artifact} is {built}")

    def _authorizer(self, api_id: str, connect: dict | None) -> None:
        if connect is None:
            return
        if connect.get("AuthorizationType") != "CUSTOM" or not connect.get("AuthorizerId"):
            self.gaps.append("route $connect: no authorizer attached")
            return
        try:
            authorizer = self._api.get_authorizer(ApiId=api_id, AuthorizerId=connect["AuthorizerId"])
        except ClientError:
            self.gaps.append("route $connect: its authorizer does not exist")
            return
        expected = self._outputs["functions"].get(self._declared.authorizer or "")
        if f":function:{expected}/" not in authorizer.get("AuthorizerUri", ""):
            self.gaps.append(f"route $connect: authorizer calls {authorizer.get('AuthorizerUri')}, not {expected}")

    def _schedules(self) -> None:
        group = self._outputs.get("schedule_group")
        schedules = {}
        for page in self._scheduler.get_paginator("list_schedules").paginate(GroupName=group):
            for summary in page["Schedules"]:
                schedules[summary["Name"]] = self._scheduler.get_schedule(Name=summary["Name"], GroupName=group)
        for function in sorted(self._declared.scheduled):
            name = self._outputs["functions"][function]
            targeting = [s for s in schedules.values() if s["Target"]["Arn"].endswith(f":function:{name}")]
            if not targeting:
                self.gaps.append(f"schedule for {name}: missing, or it targets something else")
            elif all(s.get("State") != "ENABLED" for s in targeting):
                self.gaps.append(f"schedule for {name}: disabled")

    def audit_site(self) -> None:
        """The site's root, pages and config.json answer, and config.json names this API and app client."""
        site = self._outputs.get("site")
        if not site:
            self.notes.append("site: not deployed (variable site.enabled is false)")
            return
        if self._emulated:
            self.notes.append(f"site: {site['url']} not requested (the emulator serves no CloudFront); read its bucket")
            fetch = self._from_bucket(site["bucket"])
        else:
            fetch = self._over_https(site["url"])
        pages = [key for key in site["files"] if key.endswith(".html")]
        # CloudFront answers the site's root with its default root object; a bucket has no such thing.
        for page in pages if self._emulated else ["", *pages]:
            if fetch(page) is None:
                self.gaps.append(f"site: {site['url']}{page} does not answer")
        body = fetch("config.json")
        if body is None:
            self.gaps.append(f"site: {site['url']}config.json does not answer")
            return
        try:
            config = json.loads(body)
        except ValueError:
            self.gaps.append("site: config.json is not JSON")
            return
        if config.get("webSocketUrl") != self._outputs.get("websocket_url"):
            self.gaps.append(
                f"site: config.json names {config.get('webSocketUrl')}, not {self._outputs.get('websocket_url')}"
            )
        sign_in = self._outputs.get("sign_in") or {}
        if (config.get("signIn") or {}).get("clientId") != sign_in.get("client_id"):
            self.gaps.append(f"site: config.json signs in with another client than {sign_in.get('client_id')}")

    def _from_bucket(self, bucket: str) -> Any:
        def fetch(key: str) -> bytes | None:
            try:
                return self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except ClientError:
                return None

        return fetch

    @staticmethod
    def _over_https(url: str) -> Any:
        def fetch(path: str) -> bytes | None:
            try:
                with urllib.request.urlopen(url + path, timeout=10) as response:
                    return response.read() if response.status == 200 else None
            except (urllib.error.URLError, TimeoutError):
                return None

        return fetch

    def _stage(self, api_id: str) -> None:
        if not self._outputs.get("create_deployment", True):
            self.notes.append("stage deployment: not checked (this environment creates no deployment)")
            return
        stage = self._api.get_stage(ApiId=api_id, StageName=self._outputs["stage_name"])
        deployments = self._paged(self._api.get_deployments, ApiId=api_id)
        if not stage.get("DeploymentId"):
            self.gaps.append(f"stage {self._outputs['stage_name']}: serves no deployment")
            return
        newest = max(deployments, key=lambda d: d["CreatedDate"], default=None)
        if newest and newest["DeploymentId"] != stage["DeploymentId"]:
            self.gaps.append(
                f"stage {self._outputs['stage_name']}: serves deployment {stage['DeploymentId']}, "
                f"not the newest ({newest['DeploymentId']}): a route or integration change is not live"
            )


def verify(
    env: str, mirror: str | None, endpoint: str | None = None, base: Path | None = None, root: Path = ROOT
) -> Auditor:
    auditor = Auditor(terraform_outputs(env, mirror, base, root), root, env, endpoint)
    auditor.run()
    return auditor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="verify", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--env", required=True)
    args = parser.parse_args(argv)
    auditor = verify(args.env, provider_mirror(), os.environ.get("AWS_ENDPOINT_URL"))
    for note in auditor.notes:
        print(f"verify ({args.env}): {note}")
    if auditor.gaps:
        print(f"verify ({args.env}): {len(auditor.gaps)} gap(s)")
        for gap in auditor.gaps:
            print(f"  {gap}")
        return 1
    print(f"verify ({args.env}): ok: routes, functions, authorizer, schedules and site are live as declared and built")
    return 0


if __name__ == "__main__":
    sys.exit(main())
