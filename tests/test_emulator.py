"""The moto server `make dev` starts and keeps: which instance answers, so its state is trusted only there."""

from __future__ import annotations

import pytest

from broadcast_tools import emulator
from tests.support.ports import free_port
from tests.support.waiting import eventually


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setattr(emulator, "STATE", tmp_path)
    yield tmp_path
    emulator.stop()


def test_a_restarted_moto_server_is_another_emulator_instance(state):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    assert emulator.instance(endpoint) is None, "nothing started yet"
    emulator.start_moto(port, detach=True)
    first = emulator.instance(endpoint)
    assert first is not None and first == emulator.instance(endpoint)
    assert emulator.instance(f"http://127.0.0.1:{free_port()}") is None, "another port is another emulator"
    assert emulator.stop()
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
