"""The moto server `make dev` starts and keeps: which instance answers, so its state is trusted only there, and
what a local apply does when the state is not known to match it."""

from __future__ import annotations

import subprocess

import pytest

from broadcast_tools import emulator, terraform
from tests.support.deployment import emulator_client
from tests.support.ports import free_port
from tests.support.waiting import eventually


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setattr(emulator, "STATE", tmp_path)
    yield tmp_path
    for pid_file in tmp_path.glob("moto-*.pid"):
        emulator.stop(int(pid_file.stem.removeprefix("moto-")))


def test_a_restarted_moto_server_is_another_emulator_instance(state):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    assert emulator.instance(endpoint) is None, "nothing started yet"
    emulator.start_moto(port, detach=True)
    first = emulator.instance(endpoint)
    assert first is not None and first == emulator.instance(endpoint)
    assert emulator.instance(f"http://127.0.0.1:{free_port()}") is None, "another port is another emulator"
    assert emulator.stop(port)
    # the stopped server lets go of its port
    eventually(lambda: not emulator.reachable(endpoint), timeout=30, interval=0.1, what="the port let go")
    emulator.start_moto(port, detach=True)
    second = emulator.instance(endpoint)
    assert second is not None and second != first


def test_an_emulator_this_tool_did_not_start_has_no_known_instance(state):
    port = free_port()
    server = emulator.start_moto(port, detach=False)
    try:
        assert emulator.instance(f"http://127.0.0.1:{port}") is None
    finally:
        server.terminate()
        server.wait(timeout=10)


def _workdir_in_step_with(directory, instance: str) -> None:
    (directory / "terraform.tfstate").write_text("{}")
    (directory / terraform.APPLIED_TO).write_text(instance)


def _log_groups(endpoint: str) -> list[str]:
    logs = emulator_client("logs", endpoint)
    return [group["logGroupName"] for group in logs.describe_log_groups()["logGroups"]]


@pytest.fixture
def ours(state):
    """A moto server this tool started detached, holding one resource, and a working directory."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    emulator.start_moto(port, detach=True)
    emulator_client("logs", endpoint).create_log_group(logGroupName="/aws/lambda/left-behind")
    directory = state / "workdir"
    directory.mkdir()
    return endpoint, directory


def test_a_state_applied_into_this_emulator_is_kept(ours):
    endpoint, directory = ours
    _workdir_in_step_with(directory, emulator.instance(endpoint))
    sync = terraform.sync_local(directory, endpoint)
    assert sync.in_step and not sync.reset
    assert (directory / "terraform.tfstate").exists()
    assert _log_groups(endpoint) == ["/aws/lambda/left-behind"]


@pytest.mark.parametrize(
    "history",
    ["interrupted apply", "applied into another emulator", "no record", "stale state lock"],
)
def test_a_state_not_known_to_match_empties_our_emulator_and_drops_the_state(ours, history):
    endpoint, directory = ours
    _workdir_in_step_with(directory, emulator.instance(endpoint))
    if history == "interrupted apply":  # a marker whose process is gone
        (directory / terraform.APPLYING).write_text("999999999 1")
    elif history == "applied into another emulator":
        (directory / terraform.APPLIED_TO).write_text("moto pid 1 started 1 at http://127.0.0.1:1")
    elif history == "no record":
        (directory / terraform.APPLIED_TO).unlink()
    else:
        (directory / terraform.APPLYING).write_text("999999999 1")
        (directory / terraform.STATE_LOCK_INFO).write_text('{"ID": "stale"}')
    sync = terraform.sync_local(directory, endpoint)
    assert sync.reset and not sync.in_step
    assert _log_groups(endpoint) == []
    assert not [path.name for path in directory.iterdir()], "state, record, marker and lock info are dropped"


def test_an_apply_running_in_the_working_directory_is_not_disturbed(ours):
    endpoint, directory = ours
    _workdir_in_step_with(directory, "another instance")
    with subprocess.Popen(["sleep", "30"]) as other:
        (directory / terraform.APPLYING).write_text(f"{other.pid} {emulator.process_started(other.pid)}")
        try:
            with pytest.raises(SystemExit, match=f"another terraform apply ENV=local \\(pid {other.pid}\\)"):
                terraform.sync_local(directory, endpoint)
        finally:
            other.kill()
    assert _log_groups(endpoint) == ["/aws/lambda/left-behind"]


def test_an_emulator_this_tool_did_not_start_is_never_emptied(state):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = emulator.start_moto(port, detach=False)
    try:
        emulator_client("logs", endpoint).create_log_group(logGroupName="/aws/lambda/theirs")
        directory = state / "workdir"
        directory.mkdir()
        (directory / terraform.APPLYING).write_text("999999999 1")
        sync = terraform.sync_local(directory, endpoint)
        assert sync.instance is None and not sync.reset and not sync.in_step
        assert _log_groups(endpoint) == ["/aws/lambda/theirs"]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_server_recorded_in_the_single_pid_file_of_earlier_versions_is_still_ours(state):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    emulator.start_moto(port, detach=True)
    (state / f"moto-{port}.pid").replace(state / "moto.pid")
    assert emulator.instance(endpoint) is not None
    assert emulator.stop_all() == [port]
