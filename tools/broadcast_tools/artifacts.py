"""What each artifact is built from, and the manifest that records what was built.

Both the build and the guard use these definitions, so "the sources of an artifact"
means the same thing to the one that writes it and the one that checks it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from broadcast_tools.platform_table import ROOT, PlatformTable

MANIFEST = "manifest.json"
LOCK_FILE = "uv.lock"
EXCLUDED_PARTS = {"__pycache__", ".pytest_cache"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}
#: what the build makes of the sources (a change rebuilds every artifact): modules with checked-hash bytecode
#: compiled in an isolated interpreter, wheels without their RECORD
BUILD_FORMAT = "pyc-checked-hash-isolated|no-record"


@dataclass(frozen=True)
class ArtifactSpec:
    """An artifact: its name (the manifest key Terraform uses) and what goes in it.

    ``source`` is the folder of the workspace package's code, landing under ``prefix``
    in the zip (``python/`` for a layer); the wheels are that package's locked
    dependencies with ``extras``, exported from ``uv.lock`` (a function's artifact leaves
    out what the layer already ships).
    """

    name: str
    package: str
    source: str
    extras: tuple[str, ...] = ()
    layer: bool = False

    @property
    def filename(self) -> str:
        return f"{self.name}.zip"

    @property
    def prefix(self) -> str:
        return "python" if self.layer else ""

    @property
    def project_file(self) -> str:
        return str(Path(self.source).parent / "pyproject.toml")

    def source_paths(self, root: Path = ROOT) -> list[Path]:
        return [root / self.source, root / self.project_file, root / LOCK_FILE]


def all_specs(root: Path = ROOT) -> list[ArtifactSpec]:
    """Every artifact platform.json declares, layers first."""
    table = PlatformTable.load(root / "infrastructure" / "platform.json")
    specs = [
        ArtifactSpec(name=name, package=a.package, source=a.source, extras=a.extras, layer=a.layer)
        for name, a in table.artifacts.items()
    ]
    return sorted(specs, key=lambda spec: (not spec.layer, spec.name))


def source_files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for file in sorted(path.rglob("*")):
        if file.is_file() and not EXCLUDED_PARTS & set(file.parts) and file.suffix not in EXCLUDED_SUFFIXES:
            yield file


def sources_digest(spec: ArtifactSpec, runtime: str, architecture: str, root: Path = ROOT) -> str:
    """A digest of everything the artifact is built from, including the target platform."""
    digest = hashlib.sha256(f"{runtime}|{architecture}|{BUILD_FORMAT}".encode())
    for path in spec.source_paths(root):
        for file in source_files(path):
            digest.update(str(file.relative_to(root)).encode() + b"\0")
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def code_sha256(path: Path) -> str:
    """Base64 SHA-256 of a file: what Lambda reports as CodeSha256."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def read_manifest(dist: Path) -> dict | None:
    try:
        return json.loads((dist / MANIFEST).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
