"""`make guard`: each refusal, on a copy of the repository's infrastructure, sources and dist/."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from broadcast_tools.artifacts import ROOT
from broadcast_tools.guard import check


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if not (ROOT / "dist" / "manifest.json").exists():
        pytest.fail("dist/ is not built: run `make build` (make test does)")
    for part in ("infrastructure", "layers", "services", "dist"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__", ".terraform*"))
    shutil.copy(ROOT / "uv.lock", tmp_path / "uv.lock")
    if not (ROOT / "web" / "dist" / "speaker.html").exists():
        pytest.fail("web/dist is not built: run `make web` (make test does)")
    shutil.copytree(ROOT / "web", tmp_path / "web", ignore=shutil.ignore_patterns("node_modules"))
    return tmp_path


def edit_platform(repo: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the copy's platform.json, the one declaration of functions and routes."""
    path = repo / "infrastructure" / "platform.json"
    declaration = json.loads(path.read_text())
    change(declaration)
    path.write_text(json.dumps(declaration))


def edit_main(repo: Path, old: str, new: str) -> None:
    main = repo / "infrastructure" / "main.tf"
    text = main.read_text()
    assert old in text
    main.write_text(text.replace(old, new))


def problems(repo: Path) -> str:
    verdict = check(repo)
    assert not verdict.ok
    return "\n".join(verdict.problems)


def test_built_repository_passes(repo):
    verdict = check(repo)
    assert verdict.ok, verdict.problems
    declared = json.loads((ROOT / "infrastructure" / "platform.json").read_text())
    assert f"{len(declared['routes'])} routes" in verdict.summary


def test_missing_audio_artifact_names_sendaudio(repo):
    (repo / "dist" / "audio-ingest.zip").unlink()
    found = problems(repo)
    assert "artifact audio-ingest is missing" in found and "sendAudio" in found


def test_stream_consumer_must_be_declared_and_counts_as_an_invoker(repo):
    def unwire(d):
        d["stream_consumers"].pop("transcription_worker")
        d["function_calls"].pop("create_session")  # its warm-up invoke would count too

    edit_platform(repo, unwire)
    assert "function transcription_worker: nothing invokes it" in problems(repo)


def test_translation_function_counts_as_invoked_by_its_callers_and_only_so(repo):
    def unwire(d):
        d["function_calls"].pop("transcription_worker")
        d["function_calls"].pop("join_session")  # its warm-up invoke would count too

    edit_platform(repo, unwire)
    assert "function translate_segment: nothing invokes it" in problems(repo)


def test_stream_consumer_naming_no_function_is_refused(repo):
    edit_platform(repo, lambda d: d["stream_consumers"].update(ghost="audio"))
    assert "stream_consumers names function 'ghost'" in problems(repo)


def test_queue_consumer_counts_as_an_invoker_and_must_be_declared(repo):
    edit_platform(repo, lambda d: d["queue_consumers"].update(ghost="control"))
    assert "queue_consumers names function 'ghost'" in problems(repo)
    edit_platform(repo, lambda d: d["queue_consumers"].clear())
    assert "function publish_broadcast_state: nothing invokes it" in problems(repo)


def test_function_with_an_undeclared_artifact_is_refused(repo):
    edit_platform(repo, lambda d: d["functions"]["heartbeat"].update(artifact="ghost"))
    assert "function heartbeat: its artifact 'ghost' is not declared" in problems(repo)


def test_a_platform_json_the_schema_refuses_is_reported_key_by_key(repo):
    edit_platform(repo, lambda d: d["functions"]["heartbeat"].update(handlr="x", profile=7))
    found = problems(repo)
    assert "platform.json functions.heartbeat.handlr: unknown key" in found
    assert "platform.json functions.heartbeat.profile: Input should be a valid string" in found


def test_routes_declared_outside_platform_json_are_refused(repo):
    edit_main(repo, "routes = local.platform.routes", 'routes = { heartbeat = "heartbeat" }')
    assert "local.routes must be local.platform.routes" in problems(repo)


def test_missing_artifact_names_it_and_every_route_it_serves(repo):
    (repo / "dist" / "session-management.zip").unlink()
    found = problems(repo)
    assert "artifact session-management is missing" in found
    for route in ("$connect", "createSession", "getSessionStatus", "joinSession"):
        assert route in found


def test_missing_layer_leaves_every_route_without_integration(repo):
    (repo / "dist" / "shared-layer.zip").unlink()
    found = problems(repo)
    assert "artifact shared-layer is missing" in found
    assert "$disconnect" in found and "setVolume" in found


def test_missing_manifest_is_refused(repo):
    (repo / "dist" / "manifest.json").unlink()
    assert "manifest.json is missing" in problems(repo)


def test_empty_artifact_is_refused(repo):
    (repo / "dist" / "session-management.zip").write_bytes(b"")
    assert "artifact session-management is empty" in problems(repo)


def test_artifact_changed_after_build_is_refused(repo):
    with zipfile.ZipFile(repo / "dist" / "session-management.zip", "a") as archive:
        archive.writestr("extra.txt", "tampered")
    assert "differs from the manifest" in problems(repo)


def test_artifact_older_than_its_sources_is_refused(repo):
    handler = repo / "services/session-management/src/session_management/handlers/heartbeat.py"
    handler.write_text(handler.read_text() + "\n# changed\n")
    assert "artifact session-management is older than its sources" in problems(repo)


def test_route_without_integration_is_refused(repo):
    edit_platform(repo, lambda d: d["routes"].update(ping="ping"))
    assert "route ping has no integration: function 'ping' is not declared" in problems(repo)


def test_function_nothing_invokes_is_refused(repo):
    edit_platform(repo, lambda d: d["routes"].pop("heartbeat"))
    assert "function heartbeat: nothing invokes it" in problems(repo)


def test_handler_missing_from_artifact_is_refused(repo):
    edit_platform(
        repo, lambda d: d["functions"]["heartbeat"].update(handler="session_management.handlers.ping.handler")
    )
    found = problems(repo)
    assert "session_management/handlers/ping.py" in found
    assert "heartbeat" in found


def test_runtime_mismatch_is_refused(repo):
    manifest = repo / "dist" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["runtime"] = "python3.13"
    manifest.write_text(json.dumps(data))
    assert "built for python3.13, Terraform deploys python3.12" in problems(repo)


def test_site_without_built_pages_is_refused(repo):
    shutil.rmtree(repo / "web" / "dist")
    assert "web/dist is missing: run `make web`" in problems(repo)


def test_site_page_loading_a_file_the_build_lacks_is_refused(repo):
    (script,) = (repo / "web" / "dist" / "assets").glob("speaker-*.js")
    script.unlink()
    assert f"site page speaker.html loads ./assets/{script.name}, which is not in" in problems(repo)


def test_site_pages_older_than_their_sources_are_refused(repo):
    page = repo / "web" / "dist" / "listener.html"
    source = repo / "web" / "src" / "listener.ts"
    os.utime(source, (page.stat().st_mtime + 60, page.stat().st_mtime + 60))
    assert "are older than src/listener.ts: run `make web`" in problems(repo)


def test_an_environment_without_the_site_needs_no_pages(repo):
    shutil.rmtree(repo / "web" / "dist")
    tfvars = repo / "infrastructure" / "environments" / "dev.tfvars"
    tfvars.write_text(tfvars.read_text() + "\nsite = {\n  enabled = false\n}\n")
    verdict = check(repo, env="dev")
    assert verdict.ok, verdict.problems
