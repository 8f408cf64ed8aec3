"""The artifact guard: refuses to let Terraform deploy a route that cannot work.

It only checks, never builds. It reads the platform's declaration
(``infrastructure/platform.json``) and the root module's wiring (python-hcl2), follows
every route -> integration -> function -> artifact, every layer and every schedule
target, and compares each artifact with ``dist/manifest.json`` and its sources. It
fails, naming the artifact and every route it would leave without a working
integration, when an artifact is missing, empty, altered since the build, older than
its sources, or lacks the handler a function names; and it refuses a route whose
function is not declared and a function that nothing invokes.

    python -m broadcast_tools.guard [--root .] [--dist dist]
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from broadcast_tools.artifacts import ROOT, all_specs, code_sha256, read_manifest, sources_digest
from broadcast_tools.platform_table import PlatformDeclarationError, PlatformTable
from broadcast_tools.terraform_config import deploys_site, lambda_target, wiring_problems


@dataclass
class Verdict:
    problems: list[str]
    summary: str

    @property
    def ok(self) -> bool:
        return not self.problems


def check(root: Path = ROOT, dist: Path | None = None, env: str | None = None) -> Verdict:
    dist = dist or root / "dist"
    infrastructure = root / "infrastructure"
    try:
        table = PlatformTable.load(infrastructure / "platform.json")
    except PlatformDeclarationError as exc:
        return Verdict(exc.problems, "")
    target = lambda_target(env, infrastructure)
    problems = [*table.problems(), *wiring_problems(infrastructure)]
    if deploys_site(env, infrastructure):
        problems += site_problems(root / "web")

    # Which routes each artifact serves: a function's own artifact, and every layer for all of them.
    served: dict[str, set[str]] = defaultdict(set)
    for route, function in table.routes.items():
        declared = table.functions.get(function)
        if declared is None:
            continue
        served[declared.artifact].add(route)
        for layer in table.layers:
            served[layer].add(route)
    wanted = {fn.artifact for fn in table.functions.values()} | set(table.layers)

    manifest = read_manifest(dist)
    specs = {spec.name: spec for spec in all_specs(root)}
    if manifest is None:
        problems.append(f"{dist / 'manifest.json'} is missing: run `make build`")
        for artifact in sorted(wanted):
            problems.append(_artifact_problem(artifact, "is missing (no manifest)", served[artifact]))
        return Verdict(problems, "")

    runtime, architecture = str(manifest.get("runtime")), str(manifest.get("architecture"))
    if runtime != target.runtime:
        problems.append(f"artifacts were built for {runtime}, Terraform deploys {target.runtime}: run `make build`")
    if architecture != target.architecture:
        problems.append(f"artifacts were built for {architecture}, Terraform deploys {target.architecture}")

    for artifact in sorted(wanted):
        entry = manifest.get("artifacts", {}).get(artifact)
        spec = specs.get(artifact)
        path = dist / (entry["path"] if entry else f"{artifact}.zip")
        if spec is None or not (root / spec.source).is_dir():
            problems.append(_artifact_problem(artifact, "has no sources in this repository", served[artifact]))
        elif entry is None or not path.exists():
            problems.append(_artifact_problem(artifact, f"is missing ({path.name})", served[artifact]))
        elif path.stat().st_size == 0:
            problems.append(_artifact_problem(artifact, f"is empty ({path.name})", served[artifact]))
        elif code_sha256(path) != entry.get("sha256"):
            problems.append(
                _artifact_problem(artifact, "differs from the manifest (changed after the build)", served[artifact])
            )
        elif sources_digest(spec, runtime, architecture, root) != entry.get("sourcesDigest"):
            problems.append(_artifact_problem(artifact, "is older than its sources", served[artifact]))

    for key, declared in sorted(table.functions.items()):
        entry = manifest.get("artifacts", {}).get(declared.artifact)
        zip_path = dist / entry["path"] if entry else None
        if zip_path is None or not zip_path.exists() or zip_path.stat().st_size == 0:
            continue
        module_file = declared.handler_module.replace(".", "/") + ".py"
        try:
            with zipfile.ZipFile(zip_path) as archive:
                present = module_file in archive.namelist()
        except zipfile.BadZipFile:
            problems.append(_artifact_problem(declared.artifact, "is not a valid zip", served[declared.artifact]))
            continue
        if not present:
            routes = sorted(r for r, f in table.routes.items() if f == key)
            problems.append(
                f"function {key}: handler {declared.handler} needs {module_file}, not in {zip_path.name}"
                + (f"; routes left without a working integration: {', '.join(routes)}" if routes else "")
            )

    summary = (
        f"{len(table.routes)} routes -> {len(table.functions)} functions -> "
        f"{len(wanted)} artifacts ({', '.join(sorted(wanted))}), {len(table.scheduled)} schedules"
    )
    return Verdict(problems, summary)


#: The pages Terraform uploads to the site bucket (modules/static_site), built by `make web` into web/dist.
SITE_PAGES = ("speaker.html", "listener.html", "display.html")
#: What the pages are built from: newer than the built pages means web/dist is stale.
SITE_SOURCES = ("src/**/*", "*.html", "vite.config.ts", "package-lock.json")
_LOCAL_REFERENCE = re.compile(r"""(?:src|href)="(\./[^"#?]+)""")


def site_problems(web: Path) -> list[str]:
    """Why web/dist cannot be deployed as the site: missing or empty pages, a file a page loads that is not
    there, or pages built before their sources last changed."""
    dist = web / "dist"
    if not dist.is_dir():
        return [f"{dist} is missing: run `make web` (the site would deploy without its pages)"]
    problems = []
    built: list[float] = []
    for page in SITE_PAGES:
        path = dist / page
        if not path.is_file() or path.stat().st_size == 0:
            problems.append(f"site page {page} is missing or empty in {dist}: run `make web`")
            continue
        built.append(path.stat().st_mtime)
        for reference in _LOCAL_REFERENCE.findall(path.read_text()):
            if not (dist / reference).is_file():
                problems.append(f"site page {page} loads {reference}, which is not in {dist}: run `make web`")
    sources = [
        p for pattern in SITE_SOURCES for p in web.glob(pattern) if p.is_file() and not p.name.endswith(".test.ts")
    ]
    newest = max(sources, key=lambda p: p.stat().st_mtime, default=None)
    if built and newest is not None and newest.stat().st_mtime > min(built):
        problems.append(f"site pages in {dist} are older than {newest.relative_to(web)}: run `make web`")
    return problems


def _artifact_problem(artifact: str, what: str, routes: set[str]) -> str:
    listing = ", ".join(sorted(routes)) if routes else "none"
    return f"artifact {artifact} {what}; routes left without a working integration: {listing}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="check that every route can be deployed with its integration")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--dist", type=Path, default=None)
    parser.add_argument("--env", default=None, help="read this environment's tfvars too")
    args = parser.parse_args(argv)
    verdict = check(args.root.resolve(), args.dist.resolve() if args.dist else None, args.env)
    if verdict.ok:
        print(f"guard: ok: {verdict.summary}")
        return 0
    print("guard: refusing to deploy:", file=sys.stderr)
    for problem in verdict.problems:
        print(f"  - {problem}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
