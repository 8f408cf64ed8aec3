"""Fixtures the session-management route tests share."""

import boto3
import pytest

from broadcast_shared import aws
from broadcast_shared.runtime import RouteRuntime
from broadcast_shared.warm_up import WarmUpInvoker
from broadcast_tools.platform_table import PlatformTable
from local_runtime.management_api import ManagementApiServer, RecordingSink
from session_management.warm_path import WarmPath, warm_path
from tests.support.harness import Harness
from tests.support.tables import fresh_settings


@pytest.fixture
def session(harness):
    """A speaker ``spk`` with a session, and listeners ``l1`` (es) and ``l2`` (fr)."""
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.listener_in(session_id, "l2", "fr")
    return session_id


class RecordingInvoker:
    """The Lambda Invoke API's far side: what reached it."""

    def __init__(self) -> None:
        self.invokes: list[tuple[str, dict, bool]] = []

    def invoke(self, function: str, payload: dict, asynchronous: bool) -> tuple[dict | None, None]:
        self.invokes.append((function, payload, asynchronous))
        return None, None


@pytest.fixture
def invoke_api(monkeypatch):
    """A Lambda Invoke API the functions' warm-ups reach over HTTP through their real boto3 client."""
    invoker = RecordingInvoker()
    server = ManagementApiServer(RecordingSink(), invoker=invoker).start()
    monkeypatch.setattr(
        warm_path, "_value", WarmPath(WarmUpInvoker(aws.client("lambda", endpoint_url=server.base_url)))
    )
    yield invoker
    server.stop()


@pytest.fixture
def warming_harness(aws_endpoint, management_api, clock, sink):
    """A harness whose settings name the functions to warm: the audio path and the translation pipeline."""
    settings = fresh_settings(
        boto3.client("dynamodb", region_name="eu-west-1"),
        management_api.endpoint,
        # as Terraform sets WARM_UP_FUNCTIONS from platform.json (function key -> name, less the prefix)
        warm_up_functions={
            key.replace("_", "-"): count for key, count in PlatformTable.load().warm_ups["create_session"].items()
        },
        translation_function_name="translate-segment",
    )
    return Harness(RouteRuntime.build_route(settings, clock), sink)
