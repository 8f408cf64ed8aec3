"""Session management's runtime: each function builds the collaborators it uses, once, and no others."""

from session_management.handlers import reconcile_counts, sweep_idle_connections
from tests.support.events import FakeLambdaContext

#: what SessionRuntime builds on first use, not with itself
ON_FIRST_USE = {"rate_limiter", "control", "warm_path", "transcripts"}


def built(runtime) -> set[str]:
    return ON_FIRST_USE & vars(runtime).keys()


def test_functions_that_count_no_message_build_no_rate_limiter_and_no_client_they_do_not_use(harness):
    harness.connect("l1", "listener")
    sweep_idle_connections.handler.using(harness.runtime)({"schedule": "test"}, FakeLambdaContext())
    reconcile_counts.handler.using(harness.runtime)({"schedule": "test"}, FakeLambdaContext())
    harness.disconnect("l1")
    assert built(harness.runtime) == set()


def test_a_route_builds_the_rate_limiter_and_only_what_it_uses_once_per_environment(harness):
    harness.connect("spk", "speaker", user_id="alice")
    harness.send("spk", {"action": "heartbeat"})
    assert built(harness.runtime) == {"rate_limiter"}
    limiter = harness.runtime.rate_limiter
    harness.send("spk", {"action": "createSession", "sourceLanguage": "en"})
    harness.send("spk", {"action": "setVolume", "volume": 0.5})
    assert built(harness.runtime) == {"rate_limiter", "warm_path", "control"}
    assert harness.runtime.rate_limiter is limiter
