"""`make guard`: each refusal, on a copy of the repository's infrastructure, sources and dist/."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from broadcast_tools.artifacts import ROOT
from broadcast_tools.guard import check


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if not (ROOT / "dist" / "manifest.json").exists():
        pytest.fail("dist/ is not built: run `make build` (make test does)")
    for part in ("infrastructure", "layers", "services", "requirements", "dist"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__", ".terraform*"))
    return tmp_path


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
    assert "15 routes" in verdict.summary


def test_missing_audio_artifact_names_sendaudio_and_leaves_the_worker_uninvoked(repo):
    (repo / "dist" / "audio-transcription.zip").unlink()
    found = problems(repo)
    assert "artifact audio-transcription is missing" in found and "sendAudio" in found


def test_stream_consumer_must_be_declared_and_counts_as_an_invoker(repo):
    edit_main(repo, '    transcription_worker = "audio"\n', "")
    assert "function transcription_worker: nothing invokes it" in problems(repo)


def test_translation_function_counts_as_invoked_by_the_worker_and_only_so(repo):
    edit_main(repo, '    transcription_worker = ["translate_segment"]\n', "")
    assert "function translate_segment: nothing invokes it" in problems(repo)


def test_stream_consumer_naming_no_function_is_refused(repo):
    edit_main(repo, '    transcription_worker = "audio"\n', '    transcription_worker = "audio"\n    ghost = "audio"\n')
    assert "local.stream_consumers names function 'ghost'" in problems(repo)


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
    edit_main(repo, 'heartbeat        = "heartbeat"', 'heartbeat        = "heartbeat"\n    ping = "ping"')
    assert "route ping has no integration: function 'ping' is not in local.functions" in problems(repo)


def test_function_nothing_invokes_is_refused(repo):
    edit_main(repo, '    heartbeat        = "heartbeat"\n', "")
    assert "function heartbeat: nothing invokes it" in problems(repo)


def test_handler_missing_from_artifact_is_refused(repo):
    edit_main(repo, "session_management.handlers.heartbeat.handler", "session_management.handlers.ping.handler")
    found = problems(repo)
    assert "session_management/handlers/ping.py" in found
    assert "heartbeat" in found


def test_runtime_mismatch_is_refused(repo):
    manifest = repo / "dist" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["runtime"] = "python3.13"
    manifest.write_text(json.dumps(data))
    assert "built for python3.13, Terraform deploys python3.12" in problems(repo)
