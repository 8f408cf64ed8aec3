"""Fixtures the session-management route tests share."""

import pytest


@pytest.fixture
def session(harness):
    """A speaker ``spk`` with a session, and listeners ``l1`` (es) and ``l2`` (fr)."""
    session_id = harness.speaker_with_session("spk")
    harness.listener_in(session_id, "l1", "es")
    harness.listener_in(session_id, "l2", "fr")
    return session_id
