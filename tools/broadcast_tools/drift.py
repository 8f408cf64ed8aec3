"""Drift: what in the live deployment no longer matches Terraform's state.

    python -m broadcast_tools.drift --env dev [--json]

Runs a refresh-only plan with ``-detailed-exitcode`` into a plan file, reads it with
``terraform show -json`` and reports each drifted resource (``resource_drift``): its
address, whether it was changed or deleted, and every attribute that changed, from
what to what. Exit status: 0 no drift, 2 drift, 1 error (as terraform's own).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from broadcast_tools.artifacts import ROOT
from broadcast_tools.terraform import cli_config, provider_mirror, run, workdir

PLAN_FILE = "drift.tfplan"

#: attributes one resource reads back but another resource of this configuration owns:
#: drift there is reported on the owner (an ``aws_iam_role_policy``'s own document; the site bucket's
#: ``aws_s3_bucket_*`` resources; the user pool's ``aws_cognito_user_pool_domain``; a queue's
#: ``aws_sqs_queue_redrive_policy``)
OWNED_ELSEWHERE = {
    "aws_iam_role": {"inline_policy"},
    "aws_sqs_queue": {"redrive_policy"},
    "aws_s3_bucket": {"lifecycle_rule", "policy", "server_side_encryption_configuration", "versioning"},
    "aws_cognito_user_pool": {"domain"},
}

#: what the emulator (moto) reads back other than AWS does, by resource type and attribute path without list
#: indices; ignored in the ``local`` environment only: a hosted UI domain's account id is a new random id on
#: every read, and a distribution's origin forgets its origin access control id.
EMULATOR_QUIRKS = {
    "aws_cognito_user_pool_domain": {"aws_account_id"},
    "aws_cloudfront_distribution": {"origin.origin_access_control_id"},
}


@dataclass(frozen=True)
class Change:
    attribute: str
    before: Any
    after: Any


@dataclass
class DriftedResource:
    address: str
    #: ``changed`` outside Terraform, or ``deleted`` (it no longer exists)
    kind: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class DriftReport:
    env: str
    resources: list[DriftedResource] = field(default_factory=list)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.error else (2 if self.resources else 0)

    def text(self) -> str:
        if self.error:
            return f"drift ({self.env}): error: {self.error}"
        if not self.resources:
            return f"drift ({self.env}): none: the deployment matches Terraform's state"
        lines = [f"drift ({self.env}): {len(self.resources)} resource(s) changed outside Terraform"]
        for resource in self.resources:
            lines.append(f"  {resource.address}: {resource.kind}")
            for change in resource.changes:
                lines.append(f"    {change.attribute}: {_show(change.before)} -> {_show(change.after)}")
        return "\n".join(lines)


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {} or value == ""


def differences(before: Any, after: Any, path: str = "") -> list[Change]:
    """Every leaf that differs between two attribute trees, by dotted path.

    Null, empty list, empty map and empty string are one value: providers refresh an
    unset attribute as any of them, which is not a change anyone made.
    """
    if _empty(before) and _empty(after):
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after)):
            found += differences(before.get(key), after.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        found = []
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            found += differences(b, a, f"{path}[{index}]")
        return found
    return [] if before == after else [Change(path or "(resource)", before, after)]


def report_from_plan(env: str, plan: dict[str, Any]) -> DriftReport:
    report = DriftReport(env)
    for drift in plan.get("resource_drift") or []:
        change = drift.get("change") or {}
        actions = change.get("actions") or []
        if actions == ["no-op"]:
            continue
        kind = "deleted" if "delete" in actions or change.get("after") is None else "changed"
        changes = [] if kind == "deleted" else differences(change.get("before"), change.get("after"))
        ignored = OWNED_ELSEWHERE.get(drift.get("type", ""), set())
        changes = [c for c in changes if c.attribute.split(".", 1)[0].split("[", 1)[0] not in ignored]
        if env == "local":
            quirks = EMULATOR_QUIRKS.get(drift.get("type", ""), set())
            changes = [c for c in changes if re.sub(r"\[\d+\]", "", c.attribute) not in quirks]
        if kind == "changed" and not changes:
            continue
        report.resources.append(DriftedResource(drift["address"], kind, changes))
    return report


def detect(
    env: str, mirror: str | None, endpoint: str | None, base: Path | None = None, root: Path = ROOT
) -> DriftReport:
    directory = workdir(env, root, base)
    plan_path = directory / PLAN_FILE
    plan_path.unlink(missing_ok=True)
    code = run(env, "refresh-plan", ["-no-color", f"-out={PLAN_FILE}"], mirror, endpoint, base, quiet=True, root=root)
    if code == 1 or not plan_path.exists():
        return DriftReport(env, error="terraform plan -refresh-only failed (its output is above)")
    shown = subprocess.run(
        [shutil.which("terraform") or "terraform", "show", "-json", PLAN_FILE],
        cwd=directory,
        env=cli_config(mirror, root),
        capture_output=True,
        text=True,
    )
    if shown.returncode != 0:
        return DriftReport(env, error=f"terraform show failed: {shown.stderr.strip()}")
    return report_from_plan(env, json.loads(shown.stdout))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drift", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--env", required=True)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = detect(args.env, provider_mirror(), os.environ.get("AWS_ENDPOINT_URL"))
    if args.json:
        print(json.dumps({**asdict(report), "exitCode": report.exit_code}, default=str, indent=2))
    else:
        print(report.text())
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
