"""`make dev`'s phase lines: the setup a fresh machine's first `make dev` runs is a phase of its own, and the serving
line says how long after setup it served (issue #23's "≤ 90 s after setup")."""

from __future__ import annotations

import time

import pytest

from local_runtime import __main__ as dev


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [0.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]


def test_a_setup_that_finished_during_this_make_dev_is_its_own_phase(clock, capsys):
    phases = dev.Phases(since=100.0)
    phases.setup(115.5)
    clock[0] = 125.0
    phases.done("build (web pages, function artifacts)")
    clock[0] = 190.0
    phases.serving()
    assert lines(capsys) == [
        "phase setup (virtual environments, web packages) 15.5 s",
        "phase build (web pages, function artifacts) 9.5 s",
        "phase serving, after 90.0 s in all, 74.5 s after setup",
    ]


def test_an_earlier_setup_is_no_phase_of_this_make_dev(clock, capsys):
    phases = dev.Phases(since=100.0)
    phases.setup(40.0)
    phases.setup(None)
    clock[0] = 103.0
    phases.done("build (web pages, function artifacts)")
    clock[0] = 110.0
    phases.serving()
    assert lines(capsys) == [
        "phase build (web pages, function artifacts) 3.0 s",
        "phase serving, after 10.0 s in all",
    ]


def test_the_setup_stamp_is_read_when_there_is_one(tmp_path, monkeypatch: pytest.MonkeyPatch):
    stamp = tmp_path / "setup-finished"
    monkeypatch.setattr(dev, "SETUP_FINISHED", stamp)
    assert dev.setup_finished() is None
    stamp.write_text("1796549065.25\n")
    assert dev.setup_finished() == 1796549065.25
    stamp.write_text("not a time")
    assert dev.setup_finished() is None
