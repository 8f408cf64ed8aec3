"""The local environment applied by Terraform to a moto server of the test run's own."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from broadcast_shared.repositories import every_item
from broadcast_tools import emulator, local_auth
from broadcast_tools.artifacts import ROOT
from broadcast_tools.emulator import start_moto
from broadcast_tools.terraform import provider_mirror, run
from tests.support.aws_emulator import REGION
from tests.support.ports import free_port


def emulator_options(endpoint: str) -> dict[str, str]:
    """What a boto3 client or resource needs to reach the emulator at ``endpoint``."""
    return {
        "endpoint_url": endpoint,
        "region_name": REGION,
        **emulator.CREDENTIALS,
    }


def emulator_client(service: str, endpoint: str, config: Config | None = None) -> Any:
    return boto3.client(service, config=config, **emulator_options(endpoint))


#: the local deployment's translation cache (Terraform's name for it)
CACHE_TABLE = "speech-broadcast-local-translation-cache"


def forget_translations(endpoint: str) -> None:
    """Empty the translation cache. The emulator of a test process is shared by its test files, so a talk finds the
    translations an earlier file's talk cached: a test that counts what Translate billed, or shows Translate
    failing, must not (a cached translation is served while Translate is down, rightly marked translated)."""
    table = boto3.resource("dynamodb", **emulator_options(endpoint)).Table(CACHE_TABLE)
    with table.batch_writer() as batch:
        for item in every_item(table.scan, ProjectionExpression="cacheKey"):
            batch.delete_item(Key={"cacheKey": item["cacheKey"]})


def apply_local(
    workdirs: Path, root: Path = ROOT, variables: dict[str, str] | None = None, destroy: bool = True
) -> Iterator[dict[str, Any]]:
    """`terraform apply` ENV=local of ``root``'s infrastructure into an emulator, yield, then destroy.

    ``variables`` override the local environment's (``-var name=value``; HCL values, e.g. ``{timeout_seconds=25}``).

    The emulator is ``INTEGRATION_ENDPOINT_URL`` when set (LocalStack, say: `make integration`
    passes ``AWS_ENDPOINT_URL`` on), else a moto server of its own, stopped afterwards. ``destroy=False`` skips the
    `terraform destroy` (about a minute) where stopping that moto server discards everything anyway; an external
    emulator is always destroyed.
    """
    endpoint = os.environ.get("INTEGRATION_ENDPOINT_URL")
    server = None
    if not endpoint:
        port = free_port()
        # Its own process, as under `make dev`: the emulator does not share this process's GIL.
        server = start_moto(port, detach=False)
        endpoint = f"http://127.0.0.1:{port}"
    mirror = provider_mirror()
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
        if (destroy or server is None) and (
            run("local", "destroy", ["-no-color", *overrides], mirror, endpoint, base=workdirs, quiet=True, root=root)
            != 0
        ):
            raise RuntimeError("terraform destroy ENV=local failed")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


#: the function that admits talks against the deployment's capacity (its ``CAPACITY_PLAN``)
CREATE_SESSION = "speech-broadcast-local-create-session"
#: a capacity no test reaches: the account quotas and the measured throughput lifted (``lift_capacity``)
UNBOUNDED_CAPACITY = {
    "quotas": {
        "polly_neural_tps": 1e6,
        "polly_standard_tps": 1e6,
        "transcribe_concurrent_streams": 10**6,
        "lambda_concurrent_executions": 10**6,
        "api_gateway_requests_per_second": 1e9,
    },
    "translation_concurrency": 10**6,
    "throughput_talks": None,
}


def capacity_plan(endpoint: str) -> dict[str, Any]:
    """The deployed ``createSession``'s ``CAPACITY_PLAN``."""
    lambda_ = emulator_client("lambda", endpoint)
    variables = lambda_.get_function_configuration(FunctionName=CREATE_SESSION)["Environment"]["Variables"]
    plan: dict[str, Any] = json.loads(variables["CAPACITY_PLAN"])
    return plan


def set_capacity_plan(endpoint: str, plan: dict[str, Any]) -> None:
    """Give the deployed ``createSession`` another ``CAPACITY_PLAN`` (through the Lambda API, as a changed Terraform
    variable would); a platform served afterwards admits talks against it."""
    lambda_ = emulator_client("lambda", endpoint)
    variables = lambda_.get_function_configuration(FunctionName=CREATE_SESSION)["Environment"]["Variables"]
    lambda_.update_function_configuration(
        FunctionName=CREATE_SESSION, Environment={"Variables": {**variables, "CAPACITY_PLAN": json.dumps(plan)}}
    )


def lift_capacity(endpoint: str) -> None:
    """Lift the deployment's capacity beyond any test's talks.

    One deployment serves every test of a process, and most tests leave their talks to end as a speaker who left
    does: when the grace period has passed, at the sweep, which runs only while a platform is served. Their talks
    would fill the local capacity (3) before then; ``test_capacity_e2e`` sets and tests a capacity of its own."""
    set_capacity_plan(endpoint, {**capacity_plan(endpoint), **UNBOUNDED_CAPACITY})
