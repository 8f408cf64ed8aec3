"""`make build`: one zip per service plus the layer, reproducible, with a manifest Lambda agrees with."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path

import pytest

from broadcast_tools.artifacts import ROOT, code_sha256
from broadcast_tools.build import build
from broadcast_tools.platform_table import PlatformTable

CACHE = ROOT / ".build" / "cache"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One build of every artifact, shared by the tests that only read it."""
    directory = tmp_path_factory.mktemp("dist")
    return directory, build(directory, "python3.12", "x86_64", CACHE)


def test_two_builds_of_the_same_sources_are_byte_identical(tmp_path: Path):
    """Also from two checkouts: the second build installs the wheels and compiles the bytecode afresh, in a cache
    of its own, as on another machine or a clean clone."""
    first = build(tmp_path / "a", "python3.12", "x86_64", CACHE)
    second = build(tmp_path / "b", "python3.12", "x86_64", tmp_path / "another-checkout-cache")
    assert first["artifacts"].keys() == set(PlatformTable.load().artifacts)
    for name, entry in first["artifacts"].items():
        assert entry["sha256"] == second["artifacts"][name]["sha256"]
        assert (tmp_path / "a" / entry["path"]).read_bytes() == (tmp_path / "b" / entry["path"]).read_bytes()


def test_manifest_sha256_is_lambdas_code_sha256(built: tuple[Path, dict]):
    tmp_path, manifest = built
    for entry in manifest["artifacts"].values():
        assert code_sha256(tmp_path / entry["path"]) == entry["sha256"]


def test_layer_holds_shared_package_and_linux_wheels_under_python(built: tuple[Path, dict]):
    tmp_path, manifest = built
    names = zipfile.ZipFile(tmp_path / manifest["artifacts"]["shared-layer"]["path"]).namelist()
    assert "python/broadcast_shared/websocket.py" in names
    assert any(n.startswith("python/aws_lambda_powertools/") for n in names)
    assert any(n.startswith("python/pydantic_core/") and "x86_64-linux-gnu" in n for n in names)
    assert not any(n.endswith(".pyc") and "/__pycache__/" not in n for n in names), "no stray bytecode"
    assert not any(n.startswith("python/botocore/") for n in names), "the Lambda runtime provides botocore"


def test_every_module_ships_bytecode_checked_against_its_source(built: tuple[Path, dict]):
    """Lambda's code folders are read-only: a module without bytecode is compiled again on every cold start."""
    tmp_path, manifest = built
    tag = sys.implementation.cache_tag
    for artifact in ("shared-layer", "session-management"):
        with zipfile.ZipFile(tmp_path / manifest["artifacts"][artifact]["path"]) as archive:
            names = set(archive.namelist())
            modules = [name for name in names if name.endswith(".py")]
            assert modules
            for module in modules:
                folder, _, file = module.rpartition("/")
                pyc = f"{folder}/__pycache__/{file.removesuffix('.py')}.{tag}.pyc".lstrip("/")
                assert pyc in names, f"{artifact}: {module} ships without {pyc}"
    with zipfile.ZipFile(tmp_path / manifest["artifacts"]["shared-layer"]["path"]) as archive:
        header = archive.read(f"python/broadcast_shared/__pycache__/websocket.{tag}.pyc")[:16]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(header[4:8], "little") == 0b11, "checked-hash pyc (PEP 552), not an mtime one"
    assert header[8:16] == importlib.util.source_hash(
        (ROOT / "layers/shared/python/broadcast_shared/websocket.py").read_bytes()
    )


def test_service_zip_has_its_handlers_at_the_root(built: tuple[Path, dict]):
    tmp_path, manifest = built
    names = zipfile.ZipFile(tmp_path / manifest["artifacts"]["session-management"]["path"]).namelist()
    assert "session_management/handlers/create_session.py" in names
    assert not any(n.startswith("broadcast_shared/") for n in names), "shared code ships only in the layer"


def tops_of(directory: Path, manifest: dict, artifact: str) -> set[str]:
    with zipfile.ZipFile(directory / manifest["artifacts"][artifact]["path"]) as archive:
        return {name.split("/", 1)[0] for name in archive.namelist()}


def test_each_artifact_ships_only_what_its_functions_import(built: tuple[Path, dict]):
    tmp_path, manifest = built
    assert {"session_management", "jwt", "cryptography"} <= tops_of(tmp_path, manifest, "authorizer")
    assert not {"jwt", "cryptography"} & tops_of(tmp_path, manifest, "session-management")
    ingest = tops_of(tmp_path, manifest, "audio-ingest")
    assert {"audio_transcription", "numpy"} <= ingest
    assert "aws_sdk_transcribe_streaming" not in ingest, "only the worker talks to Amazon Transcribe"
    worker = tops_of(tmp_path, manifest, "transcription-worker")
    assert {"audio_transcription", "numpy", "aws_sdk_transcribe_streaming"} <= worker
    layer = {name.removeprefix("python/").split("/", 1)[0] for name in tops_of(tmp_path, manifest, "shared-layer")}
    assert not {"jwt", "cryptography"} & layer, "only the authorizer verifies tokens"
    for artifact in manifest["artifacts"]:
        tops = tops_of(tmp_path, manifest, artifact)
        assert not {"pocketsphinx", "piper", "boto3", "botocore"} & tops
        if artifact != "shared-layer":
            assert not {"broadcast_shared", "pydantic", "aws_lambda_powertools"} & tops, "the layer ships those"


def test_wheels_ship_without_their_tests_and_type_stubs(built: tuple[Path, dict]):
    tmp_path, manifest = built
    with zipfile.ZipFile(tmp_path / manifest["artifacts"]["transcription-worker"]["path"]) as archive:
        names = archive.namelist()
    assert any(name.startswith("numpy/_core/") for name in names)
    assert not [name for name in names if name.endswith(".pyi") or "/tests/" in name]


def test_every_artifact_shipping_numpy_starts_openblas_on_one_thread(built: tuple[Path, dict]):
    # numpy's OpenBLAS starts a thread per CPU at import, which spin on the cold start's fraction of a vCPU;
    # nothing these functions compute uses BLAS.
    tmp_path, manifest = built
    table = PlatformTable.load()
    with_numpy = {name for name in manifest["artifacts"] if "numpy" in tops_of(tmp_path, manifest, name)}
    assert with_numpy == {"audio-ingest", "transcription-worker"}
    for name, artifact in table.artifacts.items():
        threads = artifact.environment.get("OPENBLAS_NUM_THREADS")
        assert threads == ("1" if name in with_numpy else None), name
