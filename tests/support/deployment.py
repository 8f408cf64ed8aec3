"""The local environment applied by Terraform to a moto server of the test run's own."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from broadcast_tools import local_auth
from broadcast_tools.terraform import run

REGION = "eu-west-1"


def emulator_client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
    )


def apply_local(workdirs: Path) -> Iterator[dict[str, Any]]:
    """Start moto, `terraform apply` ENV=local into it, yield, then destroy and stop."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    mirror = os.environ.get("TF_PROVIDER_MIRROR") or None
    local_auth.ensure()
    try:
        if run("local", "apply", ["-no-color", "-compact-warnings"], mirror, endpoint, base=workdirs) != 0:
            raise RuntimeError("terraform apply ENV=local failed")
        yield {"endpoint": endpoint, "workdirs": workdirs}
        if run("local", "destroy", ["-no-color"], mirror, endpoint, base=workdirs) != 0:
            raise RuntimeError("terraform destroy ENV=local failed")
    finally:
        server.stop()
