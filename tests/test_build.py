"""`make build`: one zip per service plus the layer, reproducible, with a manifest Lambda agrees with."""

from __future__ import annotations

import zipfile
from pathlib import Path

from broadcast_tools.artifacts import ROOT, code_sha256
from broadcast_tools.build import build

CACHE = ROOT / ".build" / "cache"


def test_two_builds_of_the_same_sources_are_byte_identical(tmp_path: Path):
    first = build(tmp_path / "a", "python3.12", "x86_64", CACHE)
    second = build(tmp_path / "b", "python3.12", "x86_64", CACHE)
    assert first["artifacts"].keys() == {
        "shared-layer",
        "session-management",
        "audio-transcription",
        "translation-pipeline",
    }
    for name, entry in first["artifacts"].items():
        assert entry["sha256"] == second["artifacts"][name]["sha256"]
        assert (tmp_path / "a" / entry["path"]).read_bytes() == (tmp_path / "b" / entry["path"]).read_bytes()


def test_manifest_sha256_is_lambdas_code_sha256(tmp_path: Path):
    manifest = build(tmp_path, "python3.12", "x86_64", CACHE)
    for entry in manifest["artifacts"].values():
        assert code_sha256(tmp_path / entry["path"]) == entry["sha256"]


def test_layer_holds_shared_package_and_linux_wheels_under_python(tmp_path: Path):
    manifest = build(tmp_path, "python3.12", "x86_64", CACHE)
    names = zipfile.ZipFile(tmp_path / manifest["artifacts"]["shared-layer"]["path"]).namelist()
    assert "python/broadcast_shared/websocket.py" in names
    assert any(n.startswith("python/aws_lambda_powertools/") for n in names)
    assert any(n.startswith("python/pydantic_core/") and "x86_64-linux-gnu" in n for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert not any(n.startswith("python/botocore/") for n in names), "the Lambda runtime provides botocore"


def test_service_zip_has_its_handlers_at_the_root(tmp_path: Path):
    manifest = build(tmp_path, "python3.12", "x86_64", CACHE)
    names = zipfile.ZipFile(tmp_path / manifest["artifacts"]["session-management"]["path"]).namelist()
    assert "session_management/handlers/create_session.py" in names
    assert not any(n.startswith("broadcast_shared/") for n in names), "shared code ships only in the layer"


def test_audio_service_ships_its_locked_dependencies_but_not_the_local_engine(tmp_path: Path):
    manifest = build(tmp_path, "python3.12", "x86_64", CACHE)
    with zipfile.ZipFile(tmp_path / manifest["artifacts"]["audio-transcription"]["path"]) as zf:
        tops = {name.split("/", 1)[0] for name in zf.namelist()}
    assert {"audio_transcription", "numpy", "aws_sdk_transcribe_streaming"} <= tops
    assert not {"pocketsphinx", "piper", "broadcast_shared", "boto3"} & tops
