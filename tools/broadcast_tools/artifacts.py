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

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = "manifest.json"
LAYER = "shared-layer"
EXCLUDED_PARTS = {"__pycache__", ".pytest_cache"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class ArtifactSpec:
    """An artifact: its name (the manifest key Terraform uses) and what goes in it.

    ``trees`` maps a folder of the repository to the folder it lands in inside the zip;
    ``requirements`` is a hash-locked requirements file installed into ``deps_prefix``.
    """

    name: str
    trees: tuple[tuple[str, str], ...]
    requirements: str | None = None
    deps_prefix: str = ""

    @property
    def filename(self) -> str:
        return f"{self.name}.zip"

    def source_paths(self, root: Path = ROOT) -> list[Path]:
        paths = [root / tree for tree, _ in self.trees]
        if self.requirements:
            paths.append(root / self.requirements)
        return paths


def service_specs(root: Path = ROOT) -> list[ArtifactSpec]:
    """One artifact per service that has a Python package under ``services/<name>/src``."""
    specs = []
    for service in sorted((root / "services").iterdir()):
        src = service / "src"
        if not src.is_dir() or not any(p.is_dir() and (p / "__init__.py").exists() for p in src.iterdir()):
            continue
        requirements = service / "requirements.lock"
        specs.append(
            ArtifactSpec(
                name=service.name,
                trees=((str(src.relative_to(root)), ""),),
                requirements=str(requirements.relative_to(root)) if requirements.exists() else None,
            )
        )
    return specs


def layer_spec() -> ArtifactSpec:
    return ArtifactSpec(
        name=LAYER,
        trees=(("layers/shared/python", "python"),),
        requirements="requirements/layer.txt",
        deps_prefix="python",
    )


def all_specs(root: Path = ROOT) -> list[ArtifactSpec]:
    return [layer_spec(), *service_specs(root)]


def source_files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for file in sorted(path.rglob("*")):
        if file.is_file() and not EXCLUDED_PARTS & set(file.parts) and file.suffix not in EXCLUDED_SUFFIXES:
            yield file


def sources_digest(spec: ArtifactSpec, runtime: str, architecture: str, root: Path = ROOT) -> str:
    """A digest of everything the artifact is built from, including the target platform."""
    digest = hashlib.sha256(f"{runtime}|{architecture}".encode())
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
