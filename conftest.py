"""Fixtures for every test in the monorepo: a moto server, the tables, the Management API."""

from __future__ import annotations

import os

# As Lambda does, the environment is set before any handler module is imported.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "tests")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "BroadcastTests")

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from local_runtime.management_api import ManagementApiServer, RecordingSink
from session_management.app import SessionRuntime
from session_management.settings import SessionSettings
from tests.support.aws_emulator import REGION, emulated_aws
from tests.support.invoke_api import RecordingInvoker
from tests.support.tables import fresh_settings


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """A moto server for the whole run; every boto3 client reaches it through AWS_ENDPOINT_URL."""
    with emulated_aws() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def management_api() -> Iterator[ManagementApiServer]:
    server = ManagementApiServer(RecordingSink()).start()
    yield server
    server.stop()


@pytest.fixture
def invoke_api(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingInvoker]:
    """A Lambda Invoke API that every Lambda client built during the test reaches (``AWS_ENDPOINT_URL_LAMBDA``,
    botocore's own rule): the functions' warm-ups and forwarding go through their real boto3 clients."""
    invoker = RecordingInvoker()
    server = ManagementApiServer(RecordingSink(), invoker=invoker).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", server.base_url)
    yield invoker
    server.stop()


@pytest.fixture
def sink(management_api: ManagementApiServer) -> RecordingSink:
    management_api.sink = RecordingSink()
    return management_api.sink


class ManualClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.current = start

    def now(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(aws_endpoint: str, management_api: ManagementApiServer) -> SessionSettings:
    """Fresh tables (unique names) for each test."""
    return fresh_settings(boto3.client("dynamodb", region_name=REGION), management_api.endpoint)


@pytest.fixture
def runtime(settings: SessionSettings, clock: ManualClock, sink: RecordingSink) -> SessionRuntime:
    """Session management's runtime, as its functions build it, on this test's settings and clock."""
    return SessionRuntime.build_session(settings, clock)


@pytest.fixture
def harness(runtime: SessionRuntime, sink: RecordingSink):
    from tests.support.harness import Harness

    return Harness(runtime, sink)


def _minutes(item: pytest.Item) -> float:
    marker = item.get_closest_marker("minutes")
    return float(marker.args[0]) if marker else 0.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files that run no Terraform first, then the others longest first (``minutes`` marker), each file's tests
    in their order: pytest-xdist hands whole files to its processes in this order (``make test``). A process's
    deployment applies in the background from the start (``tests/conftest.py``), about a minute and a half with
    both processes applying at once, while the first files, which need none, run; then the long real-time talks
    start and the short files fill in around them. A file runs Terraform when any of its tests is marked ``terraform``,
    and takes the longest ``minutes`` of its tests."""
    files: dict[Path, tuple[bool, float]] = {}
    for item in items:
        terraform, minutes = files.get(item.path, (False, 0.0))
        files[item.path] = (terraform or item.get_closest_marker("terraform") is not None, max(minutes, _minutes(item)))
    items.sort(key=lambda item: (files[item.path][0], -files[item.path][1]))
