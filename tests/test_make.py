"""`make plan` and `make apply` run the guard first and stop, before Terraform, when it refuses; `make dev` serves
after an earlier one was interrupted during its apply."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from broadcast_tools.artifacts import ROOT
from tests.support.deployment import emulator_client
from tests.support.ports import free_port
from tests.support.terminal import as_in_a_terminal
from tests.support.waiting import eventually

PARTS = ("infrastructure", "services", "layers", "tools", "requirements", "scripts", "dist")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for part in PARTS:
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__", ".terraform*"))
    for name in ("Makefile", ".python-version", "uv.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    return tmp_path


@pytest.mark.parametrize(("target", "env"), [("plan", "local"), ("apply", "local"), ("plan", "prod"), ("apply", "dev")])
def test_plan_and_apply_stop_when_an_artifact_is_missing(checkout, target, env):
    (checkout / "dist" / "session-management.zip").unlink()
    result = subprocess.run(["make", target, f"ENV={env}"], cwd=checkout, capture_output=True, text=True)
    assert result.returncode != 0
    assert "artifact session-management is missing" in result.stderr
    assert "createSession" in result.stderr
    assert not (checkout / ".terraform-env" / env).exists(), "terraform ran although the guard refused"


def test_guard_target_never_builds(checkout):
    (checkout / "dist" / "shared-layer.zip").unlink()
    result = subprocess.run(["make", "guard"], cwd=checkout, capture_output=True, text=True)
    assert result.returncode != 0
    assert not (checkout / "dist" / "shared-layer.zip").exists()


def test_no_module_shadows_the_standard_library():
    roots = [ROOT / p for p in ("layers", "services", "tools", "tests", "benchmarks", "scripts")]
    shadowing = [
        str(path.relative_to(ROOT))
        for root in roots
        for path in root.rglob("*.py")
        if path.stem in sys.stdlib_module_names
    ]
    assert not shadowing, f"modules named like the standard library: {shadowing}"


def test_web_pages_are_rebuilt_only_when_a_source_changed(checkout):
    web = checkout / "web"
    shutil.copytree(ROOT / "web", web, ignore=shutil.ignore_patterns("node_modules", "dist"))
    (web / "dist").mkdir()
    for page in ("speaker.html", "listener.html", "display.html"):
        (web / "dist" / page).write_text("<html></html>")

    def planned() -> str:
        return subprocess.run(["make", "-n", "web"], cwd=checkout, capture_output=True, text=True, check=True).stdout

    assert "npm" not in planned()
    source = next(path for path in (web / "src").rglob("*.ts") if not path.name.endswith(".test.ts"))
    later = (web / "dist" / "speaker.html").stat().st_mtime + 10
    os.utime(source, (later, later))
    assert "npm --prefix web run build" in planned()


def _dev_environment(checkout: Path) -> dict[str, str]:
    """`make dev` of the copy, on ports of its own: the copy's tools first on the path, so its state (`.local`,
    `.terraform-env`) is the copy's and the developer's own is never touched."""
    sources = [ROOT / "tools", ROOT / "layers" / "shared" / "python", *(ROOT / "services").glob("*/src")]
    environ = {name: value for name, value in os.environ.items() if name != "AWS_ENDPOINT_URL"}
    environ.update(
        PYTHONPATH=os.pathsep.join(str(checkout / path.relative_to(ROOT)) for path in sources),
        MOTO_PORT=str(free_port()),
        PORT=str(free_port()),
    )
    return environ


class MakeDev:
    """One `make dev` in its own process group, its output in a file."""

    def __init__(self, checkout: Path, environ: dict[str, str], name: str) -> None:
        self.output = checkout / f"{name}.log"
        with self.output.open("w") as log:
            self.process = subprocess.Popen(
                ["make", "dev"],
                cwd=checkout,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=as_in_a_terminal,
            )

    def text(self) -> str:
        return self.output.read_text()

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float) -> None:
        def probe() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"make dev exited ({self.process.returncode}) before {what}:\n{self.text()[-5000:]}")
            return condition()

        try:
            eventually(probe, timeout=timeout, interval=0.5, what=what)
        except AssertionError as late:
            pytest.fail(f"{late}:\n{self.text()[-5000:]}")

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to the whole process group, as a terminal sends it."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise


@pytest.fixture
def dev_checkout(checkout: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A copy with built pages and this machine's provider cache, and the environment of its `make dev`; its moto
    server is stopped afterwards."""
    shutil.copytree(ROOT / "web" / "dist", checkout / "web" / "dist")
    cache = ROOT / ".terraform-env" / "plugin-cache"
    if cache.is_dir():
        (checkout / ".terraform-env").mkdir()
        (checkout / ".terraform-env" / "plugin-cache").symlink_to(cache)
    environ = _dev_environment(checkout)
    yield checkout, environ
    subprocess.run(["make", "emulator-stop"], cwd=checkout, env=environ, capture_output=True, check=False)


@pytest.mark.terraform
@pytest.mark.minutes(2)
@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
@pytest.mark.skipif(not (ROOT / "web" / "dist" / "speaker.html").exists(), reason="needs the built pages (make web)")
def test_make_dev_serves_after_an_earlier_make_dev_was_interrupted_during_its_apply(dev_checkout):
    checkout, environ = dev_checkout
    endpoint = f"http://127.0.0.1:{environ['MOTO_PORT']}"
    first = MakeDev(checkout, environ, "first")
    first.wait_for(lambda: "terraform apply ENV=local into" in first.text(), "terraform apply", timeout=600)
    logs = emulator_client("logs", endpoint)
    first.wait_for(lambda: len(logs.describe_log_groups()["logGroups"]) >= 3, "log groups in the emulator", 600)
    first.interrupt()
    assert "\nserving ws://" not in first.text(), "the first make dev finished its apply before it was interrupted"
    assert "interrupted before serving" in first.text(), first.text()[-3000:]
    assert logs.describe_log_groups()["logGroups"], "the emulator keeps what the interrupted apply created"

    second = MakeDev(checkout, environ, "second")
    try:
        second.wait_for(lambda: "\nserving ws://" in second.text(), "serving line", timeout=900)
        assert "started a new moto server there, applying afresh" in second.text()
        with urllib.request.urlopen(f"http://127.0.0.1:{environ['PORT']}/config.json", timeout=10) as answer:  # noqa: S310
            assert json.loads(answer.read())["webSocketUrl"].endswith(f":{environ['PORT']}/local")
    finally:
        assert second.interrupt() is not None
