"""`make plan` and `make apply` run the guard first and stop, before Terraform, when it refuses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from broadcast_tools.artifacts import ROOT

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
