"""The local environment applied by Terraform to a moto server of the test run's own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

from broadcast_tools import local_auth
from broadcast_tools.artifacts import ROOT
from broadcast_tools.emulator import start_moto
from broadcast_tools.terraform import run
from tests.support.aws_emulator import REGION
from tests.support.ports import free_port


def emulator_client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
    )


def apply_local(workdirs: Path, root: Path = ROOT, variables: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """`terraform apply` ENV=local of ``root``'s infrastructure into an emulator, yield, then destroy.

    ``variables`` override the local environment's (``-var name=value``; HCL values, e.g. ``{timeout_seconds=25}``).

    The emulator is ``INTEGRATION_ENDPOINT_URL`` when set (LocalStack, say: `make integration`
    passes ``AWS_ENDPOINT_URL`` on), else a moto server of its own, stopped afterwards.
    """
    endpoint = os.environ.get("INTEGRATION_ENDPOINT_URL")
    server = None
    if not endpoint:
        port = free_port()
        # Its own process, as under `make dev`: the emulator does not share this process's GIL.
        server = start_moto(port, detach=False)
        endpoint = f"http://127.0.0.1:{port}"
    mirror = os.environ.get("TF_PROVIDER_MIRROR") or None
    local_auth.ensure()
    overrides = [f"-var={name}={value}" for name, value in (variables or {}).items()]
    try:
        if (
            run(
                "local",
                "apply",
                ["-no-color", "-compact-warnings", *overrides],
                mirror,
                endpoint,
                base=workdirs,
                quiet=True,
                root=root,
            )
            != 0
        ):
            raise RuntimeError("terraform apply ENV=local failed")
        yield {"endpoint": endpoint, "workdirs": workdirs}
        if (
            run("local", "destroy", ["-no-color", *overrides], mirror, endpoint, base=workdirs, quiet=True, root=root)
            != 0
        ):
            raise RuntimeError("terraform destroy ENV=local failed")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
