"""Builds one zip per service and one layer zip into ``dist/``, reproducibly.

Same inputs give the same bytes: entries are sorted, timestamps and permissions are
fixed, local caches are left out, and third-party wheels come from hash-locked requirements
for the Lambda runtime's platform. Every module ships with its bytecode, compiled for the
runtime's Python with a hash of its source (PEP 552, checked-hash): Lambda's code and
layer folders are read-only, so without it every cold start compiles each module it
imports again (about half of a handler's import time, measured by ``make bench``).
An artifact whose sources digest matches the manifest is not rebuilt, so a rebuild with nothing
changed takes well under 2 seconds.

    python -m broadcast_tools.build [--dist dist] [--runtime python3.12] [--architecture x86_64]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from broadcast_tools.artifacts import (
    BUILD_FORMAT,
    MANIFEST,
    ROOT,
    ArtifactSpec,
    all_specs,
    code_sha256,
    read_manifest,
    source_files,
    sources_digest,
)
from broadcast_tools.terraform_config import lambda_target

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# The Lambda Python 3.12 runtime (Amazon Linux 2023) ships glibc 2.34.
PLATFORMS = {"x86_64": "x86_64-manylinux_2_28", "arm64": "aarch64-manylinux_2_28"}


def _entry(name: str, executable: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | 0o100000) << 16
    info.create_system = 3
    return info


def export_requirements(spec: ArtifactSpec, layers: list[ArtifactSpec], root: Path = ROOT) -> str:
    """The artifact's hash-locked requirements, exported from ``uv.lock`` (never re-resolved).

    A function's artifact leaves out every package a layer ships, so each package is shipped once.
    """
    omitted: set[str] = set()
    if not spec.layer:
        for layer in layers:
            omitted |= {line.split("==")[0] for line in _export(layer, set(), root).splitlines() if "==" in line}
    return _export(spec, omitted, root)


def _export(spec: ArtifactSpec, omitted: set[str], root: Path) -> str:
    command = [sys.executable, "-m", "uv", "export", "--frozen", "--no-dev", "--no-emit-workspace", "--no-header"]
    command += ["--no-annotate", "--package", spec.package, "--directory", str(root)]
    for extra in spec.extras:
        command += ["--extra", extra]
    for package in sorted(omitted):
        command += ["--no-emit-package", package]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def install_requirements(requirements: str, runtime: str, architecture: str, cache: Path) -> Path:
    """Install hash-locked wheels for the Lambda platform into a cached folder."""
    version = runtime.removeprefix("python")
    target = cache / f"deps-{sources_key(requirements, runtime, architecture)}"
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(dir=cache))
    listing = staging.with_suffix(".txt")
    listing.write_text(requirements)
    command = [
        sys.executable,
        "-m",
        "uv",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--require-hashes",
        "--only-binary",
        ":all:",
        "--python-version",
        version,
        "--python-platform",
        PLATFORMS[architecture],
        "--target",
        str(staging),
        "-r",
        str(listing),
    ]
    # The project's own pins decide what is installed, not a machine's configuration.
    subprocess.run(command, check=True, env={**os.environ, "UV_NO_CONFIG": "1"})
    listing.unlink()
    try:
        staging.rename(target)
    except OSError:
        # Another artifact built side by side installed the same requirements first.
        if not target.is_dir():
            raise
        shutil.rmtree(staging)
    return target


def sources_key(requirements: str, runtime: str, architecture: str) -> str:
    return hashlib.sha256(requirements.encode() + f"{runtime}|{architecture}".encode()).hexdigest()[:16]


def shipped(relative: Path) -> bool:
    """Whether a file of an installed wheel belongs in a Lambda artifact: no scripts, tests or type stubs, and no
    ``RECORD`` (the installer's list of what it wrote, with the hash of each script, whose first line names the
    folder it was installed into: a build in another checkout would differ by it)."""
    return (
        relative.parts[0] != "bin"
        and not {"tests", "testing"} & set(relative.parts[1:-1])
        and (relative.suffix != ".pyi")
        and not (relative.name == "RECORD" and relative.parent.name.endswith(".dist-info"))
    )


#: compiles each (source, pyc, name) read as JSON from stdin, in an interpreter of its own (see with_bytecode)
_COMPILER = """
import json, py_compile, sys
for source, pyc, name in json.load(sys.stdin):
    py_compile.compile(source, cfile=pyc, dfile=name, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
"""


def with_bytecode(files: dict[str, Path], runtime: str, cache: Path) -> dict[str, Path]:
    """The files plus each module's ``__pycache__/<name>.cpython-3XX.pyc``, compiled for ``runtime``.

    Checked-hash pycs hold a hash of their source instead of its mtime, so Python never runs one that does not
    match its source. They are compiled in a fresh, isolated interpreter with a fixed hash seed: marshal's output
    depends on the compiling process (which objects it already holds, the order of a set constant's strings), so
    bytecode compiled inside a test run, say, differed from a `make build`'s. Compiled once per source and cached."""
    if runtime != f"python{sys.version_info.major}.{sys.version_info.minor}":
        raise SystemExit(f"build: the artifacts' bytecode is for {runtime}; run the build with that Python")
    compiled = dict(files)
    store = cache / "bytecode"
    store.mkdir(parents=True, exist_ok=True)
    missing: list[tuple[str, str, str]] = []
    for name, source in files.items():
        if not name.endswith(".py"):
            continue
        module = Path(name)
        key = hashlib.sha256(f"{name}|{sys.version}|{BUILD_FORMAT}|".encode() + source.read_bytes()).hexdigest()
        target = store / f"{key}.pyc"
        if not target.exists():
            missing.append((str(source), str(target), name))
        compiled[str(module.parent / "__pycache__" / f"{module.stem}.{sys.implementation.cache_tag}.pyc")] = target
    if missing:
        subprocess.run(
            [sys.executable, "-I", "-S", "-c", _COMPILER],
            input=json.dumps(missing),
            text=True,
            check=True,
            env={"PYTHONHASHSEED": "0"},
        )
    return compiled


def write_zip(destination: Path, files: dict[str, Path]) -> None:
    temporary = destination.with_suffix(".zip.tmp")
    # Each entry's ZipInfo (_entry) sets its compression: deflate at zlib's default level.
    with zipfile.ZipFile(temporary, "w") as archive:
        for name in sorted(files):
            source = files[name]
            archive.writestr(_entry(name, os.access(source, os.X_OK) and "/bin/" in name), source.read_bytes())
    temporary.replace(destination)


def collect(spec: ArtifactSpec, layers: list[ArtifactSpec], runtime: str, architecture: str, cache: Path) -> dict:
    files: dict[str, Path] = {}
    base = ROOT / spec.source
    for file in source_files(base):
        files[str(Path(spec.prefix) / file.relative_to(base))] = file
    requirements = export_requirements(spec, layers)
    if requirements.strip():
        deps = install_requirements(requirements, runtime, architecture, cache)
        for file in source_files(deps):
            relative = file.relative_to(deps)
            if shipped(relative):
                files[str(Path(spec.prefix) / relative)] = file
    return with_bytecode(files, runtime, cache)


def build(dist: Path, runtime: str, architecture: str, cache: Path) -> dict:
    dist.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    previous = read_manifest(dist) or {}
    same_target = previous.get("runtime") == runtime and previous.get("architecture") == architecture
    specs = all_specs()
    layers = [spec for spec in specs if spec.layer]

    def build_one(spec: ArtifactSpec) -> tuple[dict, str]:
        """The artifact's manifest entry, and the line that says whether it was built."""
        digest = sources_digest(spec, runtime, architecture)
        path = dist / spec.filename
        recorded = previous.get("artifacts", {}).get(spec.name, {}) if same_target else {}
        if recorded.get("sourcesDigest") == digest and path.exists() and code_sha256(path) == recorded.get("sha256"):
            return recorded, f"up to date  {spec.filename}"
        write_zip(path, collect(spec, layers, runtime, architecture, cache))
        entry = {
            "path": spec.filename,
            "sha256": code_sha256(path),
            "size": path.stat().st_size,
            "sources": [str(p.relative_to(ROOT)) for p in spec.source_paths()],
            "sourcesDigest": digest,
        }
        return entry, f"built       {spec.filename}  {entry['size']} bytes  {entry['sha256']}"

    # The artifacts build all at once: their time goes to uv and the compiler (subprocesses) and to zlib, which
    # releases the GIL, so the cores stay busy until the largest is done (2 cores: 9 s instead of 14-16 s).
    with ThreadPoolExecutor(max_workers=len(specs)) as pool:
        results = list(pool.map(build_one, specs))
    artifacts: dict[str, dict] = {}
    for spec, (entry, line) in zip(specs, results, strict=True):
        artifacts[spec.name] = entry
        print(line)
    manifest = {"runtime": runtime, "architecture": architecture, "artifacts": artifacts}
    (dist / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--env", default=None, help="take runtime and architecture from this environment's tfvars")
    parser.add_argument("--runtime", default=None, help="default: Terraform's lambda_runtime")
    parser.add_argument("--architecture", default=None, choices=PLATFORMS, help="default: lambda_architecture")
    parser.add_argument("--cache", type=Path, default=ROOT / ".build" / "cache")
    args = parser.parse_args(argv)
    # Terraform's variables are the one source of the target platform.
    target = lambda_target(args.env)
    runtime = args.runtime or target.runtime
    architecture = args.architecture or target.architecture
    build(args.dist.resolve(), runtime, architecture, args.cache.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
