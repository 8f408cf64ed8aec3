"""Fixtures the session-management route tests share."""

import boto3
import pytest

from broadcast_tools.platform_table import PlatformTable
from session_management.app import SessionRuntime
from tests.support.harness import Harness
from tests.support.tables import fresh_settings


@pytest.fixture
def session(harness):
    """A speaker ``spk`` with a session, and listeners ``l1`` (es) and ``l2`` (fr)."""
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.listener_in(session_id, "l2", "fr")
    return session_id


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
    return Harness(SessionRuntime.build_session(settings, clock), sink)


@pytest.fixture
def asking(aws_endpoint, management_api, clock, sink):
    """A harness whose questions are translated by the local engine (apertium), with ``session``'s cast:
    speaker ``spk`` (English), listeners ``l1`` (es) and ``l2`` (fr); returns (harness, session id)."""
    settings = fresh_settings(
        boto3.client("dynamodb", region_name="eu-west-1"), management_api.endpoint, translation_engine="apertium"
    )
    harness = Harness(SessionRuntime.build_session(settings, clock), sink)
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.listener_in(session_id, "l2", "fr")
    return harness, session_id
