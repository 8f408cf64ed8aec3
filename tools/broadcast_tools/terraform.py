"""Runs Terraform for one environment in its own working directory.

Each environment gets ``.terraform-env/<env>/``: links to the root module's files
(``*.tf`` and ``platform.json``), modules and price files (``pricing/``), a copy of the committed
``.terraform.lock.hcl``, plus, for ``local`` only, the files in
``infrastructure/environments/local`` (local state, emulator endpoints). So no emulator
setting can reach dev, staging or prod, and environments never share a ``.terraform``
folder.

    python -m broadcast_tools.terraform ENV init|plan|apply|destroy|output|refresh-plan [terraform args...]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from broadcast_tools import emulator
from broadcast_tools.artifacts import ROOT
from broadcast_tools.waiting import wait_for

ENVIRONMENTS = ("local", "dev", "staging", "prod")
LOCK_FILE = ".terraform.lock.hcl"


def workdir(env: str, root: Path = ROOT, base: Path | None = None) -> Path:
    """The environment's working directory under ``base`` (default ``.terraform-env``)."""
    infra = root / "infrastructure"
    target = (base or root / ".terraform-env") / env
    target.mkdir(parents=True, exist_ok=True)
    wanted: dict[str, Path] = {path.name: path for path in [*infra.glob("*.tf"), *infra.glob("*.json")]}
    wanted["modules"] = infra / "modules"
    wanted["pricing"] = infra / "pricing"  # the region's prices (main.tf's local.prices)
    if env == "local":
        wanted.update({path.name: path for path in (infra / "environments" / "local").glob("*.tf")})
    for entry in target.iterdir():
        if entry.is_symlink() and entry.name not in wanted:
            entry.unlink()
    (target / CREATED_TWICE_IMPORTS).unlink(missing_ok=True)  # left by an apply that was killed
    # The committed lock file pins the provider; init may add this machine's hashes to the copy.
    lock = infra / LOCK_FILE
    if lock.exists() and (
        not (target / LOCK_FILE).exists() or _locked_version(target / LOCK_FILE) != _locked_version(lock)
    ):
        shutil.copyfile(lock, target / LOCK_FILE)
    for name, source in wanted.items():
        link = target / name
        if link.is_symlink() and link.resolve() == source.resolve():
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(source, target))
    return target


def _locked_version(lock: Path) -> list[str]:
    return re.findall(r'^\s*version\s*=\s*"([^"]+)"', lock.read_text(), flags=re.MULTILINE)


#: In the local working directory: the emulator instance (:func:`broadcast_tools.emulator.instance`) the state was
#: last applied into, completely, so the next apply can trust the state (and `make dev` skip refreshing it).
APPLIED_TO = "applied-to-emulator"
#: In the local working directory while an apply runs: the pid and start time of the process running it, then the
#: process group of the terraform it started. Left behind by an apply that was interrupted or failed, it says the
#: state and the emulator may be out of step.
APPLYING = "apply-in-progress"
#: In the local working directory, beside ``APPLIED_TO``: the digest (:func:`local_inputs`) of what that apply read.
APPLIED_INPUTS = "applied-inputs"
#: Terraform's local backend writes this beside the state while it holds the state's lock.
STATE_LOCK_INFO = ".terraform.tfstate.lock.info"
#: How many resources a local apply creates at once (Terraform's default is 10): the emulator answers at once, and
#: the provider's fixed waits (5 s after each function, 25 s after each queue) are what a local apply spends.
LOCAL_PARALLELISM = 32
#: How long a local apply waits for an earlier one in the same working directory to stop before it gives up.
EARLIER_APPLY_WAIT_SECONDS = 600.0
#: What a failed local apply says when it met something it had just created itself: the provider sent a create the
#: moto server had already carried out a second time ("already exists" in a server emptied just before the apply; 3 of
#: 21 fresh applies on 2026-12-07, before the server sent each answer in one write: docs/LOCAL.md). Kept as the way
#: out should any cause send a create twice again.
CREATED_TWICE = re.compile(r"StatusCode: 409|already exists?\b", re.IGNORECASE)
#: In one of Terraform's errors, a failed create: the provider's "creating <kind> (<id>)" and the resource's address.
CREATE_FAILED = re.compile(r"^creating [^(\n]*\((?P<id>[^)\n]+)\)")
ERROR_ADDRESS = re.compile(r"^\s*with (?P<address>\S+),$", re.MULTILINE)
#: The resources whose import id is the name the provider's error gives: what a create sent twice left in the server is
#: taken into the state, and the apply goes on in the same server instead of applying everything again in a new one.
IMPORTED_BY_NAME = frozenset(
    {
        "aws_cloudwatch_log_group",
        "aws_cloudwatch_metric_alarm",
        "aws_dynamodb_table",
        "aws_iam_role",
        "aws_kinesis_stream",
        "aws_lambda_function",
    }
)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
#: In the local working directory while an apply goes on after a create sent twice: its import blocks.
CREATED_TWICE_IMPORTS = "created_twice_imports.tf"


def forget_local_state(directory: Path) -> None:
    """Drop the local environment's state in ``directory``: the emulator it describes holds nothing of it."""
    for name in ("terraform.tfstate", "terraform.tfstate.backup", APPLIED_TO, APPLIED_INPUTS, APPLYING):
        (directory / name).unlink(missing_ok=True)
    (directory / STATE_LOCK_INFO).unlink(missing_ok=True)


@dataclass(frozen=True)
class LocalSync:
    """Where a local apply starts from: the emulator instance (None when this checkout did not start it) and
    whether the state is known to describe exactly what that emulator holds."""

    instance: str | None
    in_step: bool
    reset: bool


def _running_apply(directory: Path) -> str | None:
    """The command that stops what still runs of another apply in ``directory``: its process, or the terraform (and
    providers) it started, which outlive it when it was killed; None when nothing does."""
    try:
        pid, started, *group = (directory / APPLYING).read_text().split()
    except (OSError, ValueError):
        return None
    if int(pid) != os.getpid() and emulator.process_started(pid) == started:
        return f"kill {pid}"
    if group and int(group[0]) != os.getpgrp() and _group_alive(int(group[0])):
        return f"kill -- -{group[0]}"
    return None


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):  # PermissionError: another user's process took the number
        return False
    return True


def _wait_for_earlier_apply(directory: Path, wait: float) -> None:
    """Wait for another apply in ``directory`` to stop: an interrupted `make dev` lets its terraform finish the calls
    it has in flight, and emptying the emulator under them would leave it holding what they create."""
    running = _running_apply(directory)
    if running is None:
        return
    print(
        f"waiting for the earlier terraform apply ENV=local in {directory} to stop ({running} stops it) …", flush=True
    )
    if not wait_for(lambda: _running_apply(directory) is None, wait, 0.5):
        raise SystemExit(
            f"another terraform apply ENV=local is still running in {directory}: "
            f"let it finish, or stop it ({running}), then run the command again"
        )


def sync_local(directory: Path, endpoint: str, wait: float = EARLIER_APPLY_WAIT_SECONDS) -> LocalSync:
    """Bring the local state and the emulator in step before an apply.

    An earlier apply still running in ``directory`` (an interrupted one finishing its calls in flight) is waited
    for, up to ``wait`` seconds. When the state was completely applied into this very moto server (its instance
    recorded in ``APPLIED_TO``, no apply left unfinished), both are kept. Otherwise (a restarted or other emulator,
    an apply that was interrupted or failed, a `make destroy`) a moto server this checkout started is disposable: it
    is emptied (replaced by a new one after an unfinished apply, whose cancelled calls may still reach it) and the
    state dropped, so the apply creates everything afresh instead of meeting what the state does not know. An
    emulator this checkout did not start (LocalStack, a moto server started elsewhere) is left alone
    and refreshed.
    """
    _wait_for_earlier_apply(directory, wait)
    instance = emulator.instance(endpoint)
    record = directory / APPLIED_TO
    unfinished = (directory / APPLYING).exists()
    in_step = instance is not None and not unfinished and record.is_file() and record.read_text() == instance
    if in_step or instance is None:
        (directory / STATE_LOCK_INFO).unlink(missing_ok=True)  # no process of ours holds it (checked above)
        return LocalSync(instance, in_step, reset=False)
    if unfinished:
        # Calls an interrupted or failed apply sent may still be on their way through the server: a new one.
        instance = emulator.restart(endpoint)
        done = "started a new moto server there"
    else:
        try:
            emulator.reset(endpoint)
        except OSError as error:  # URLError, a timeout
            raise SystemExit(
                f"the moto server at {endpoint} did not empty itself ({error}); start a new one: make emulator-stop, "
                "then run the command again"
            ) from error
        done = "emptied it"
    if unfinished or (directory / "terraform.tfstate").exists():  # a fresh checkout's first apply has none to drop
        print(f"local state not known to match the emulator at {endpoint}: {done}, applying afresh", flush=True)
    forget_local_state(directory)
    return LocalSync(instance, in_step=False, reset=True)


def local_inputs(endpoint: str, root: Path = ROOT) -> str:
    """A digest of everything a local apply reads besides its state: the Terraform files and variables, the
    artifacts' manifest (their SHA-256s), the web pages and the local auth variables."""
    digest = hashlib.sha256()
    arguments = variables("local", endpoint, root)
    files = [
        *(path for path in sorted((root / "infrastructure").rglob("*")) if ".terraform" not in path.parts),
        root / "dist" / "manifest.json",
        *sorted((root / "web" / "dist").rglob("*")),
        *(Path(argument.split("=", 1)[1]) for argument in arguments if argument.startswith("-var-file=")),
    ]
    for argument in arguments:
        digest.update(argument.encode() + b"\0")
    for path in files:
        if path.is_file():
            digest.update(str(path).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def unchanged_since_applied(directory: Path, sync: LocalSync, inputs: str) -> bool:
    """The state is in step with the emulator and the last apply into it read these very inputs: an apply now
    would change nothing that Terraform's configuration describes."""
    record = directory / APPLIED_INPUTS
    return sync.in_step and record.is_file() and record.read_text() == inputs


def provider_mirror() -> str | None:
    """The local filesystem mirror of the providers (``TF_PROVIDER_MIRROR``), if this machine has one."""
    return os.environ.get("TF_PROVIDER_MIRROR") or None


def cli_config(mirror: str | None, root: Path = ROOT) -> dict[str, str]:
    """Environment for terraform: a CLI config that installs providers from a local mirror, if given.

    The copy of ``os.environ`` reads each variable with ``get``: the tests apply on a thread of their own while
    pytest sets and deletes ``PYTEST_CURRENT_TEST`` on the main one, and ``dict(os.environ)`` raised ``KeyError``
    for a variable deleted between its listing and its read (one clean-clone CI run, 2026-12-07)."""
    env = {name: value for name in list(os.environ) if (value := os.environ.get(name)) is not None}
    if mirror:
        config = root / ".terraform-env" / "terraformrc"
        config.parent.mkdir(parents=True, exist_ok=True)
        text = (
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["registry.terraform.io/*/*"]\n  }}\n'
            '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n'
            "}\n"
            f'plugin_cache_dir = "{config.parent / "plugin-cache"}"\n'
        )
        if not config.is_file() or config.read_text() != text:
            # Whole or not at all: the suite's test processes run Terraform side by side, and one that read a
            # half-written file would look for providers on the registry, which this machine cannot reach.
            written = config.with_name(f"terraformrc.{os.getpid()}")
            written.write_text(text)
            written.replace(config)
        (config.parent / "plugin-cache").mkdir(exist_ok=True)
        env["TF_CLI_CONFIG_FILE"] = str(config)
    elif env.get("TF_CLI_CONFIG_FILE") and not Path(env["TF_CLI_CONFIG_FILE"]).exists():
        env.pop("TF_CLI_CONFIG_FILE")
    return env


def variables(env: str, endpoint: str | None, root: Path = ROOT) -> list[str]:
    args = [
        f"-var-file={root / 'infrastructure' / 'environments' / f'{env}.tfvars'}",
        f"-var=artifacts_dir={root / 'dist'}",
        f"-var=site_dir={root / 'web' / 'dist'}",
    ]
    if env == "local":
        if not endpoint:
            raise SystemExit("the local environment needs an emulator endpoint (AWS_ENDPOINT_URL)")
        args += [
            f"-var=aws_endpoint_url={endpoint}",
            f"-var-file={root / '.local' / 'auth' / 'speaker-auth.tfvars.json'}",
        ]
    return args


MODULE_BLOCK = re.compile(r'^module\s+"([^"]+)"', re.MULTILINE)


def _needs_init(directory: Path) -> bool:
    """No working directory yet, or a module was added since it was initialised."""
    installed = directory / ".terraform" / "modules" / "modules.json"
    if not installed.exists():
        return True
    known = {module["Key"] for module in json.loads(installed.read_text()).get("Modules", [])}
    declared = {name for tf in directory.glob("*.tf") for name in MODULE_BLOCK.findall(tf.read_text())}
    return not declared <= known


def run(
    env: str,
    command: str,
    extra: list[str],
    mirror: str | None,
    endpoint: str | None,
    base: Path | None = None,
    quiet: bool = False,
    root: Path = ROOT,
    sync: LocalSync | None = None,
) -> int:
    """Run one terraform command for ``env``; ``quiet`` prints its output only when it fails.

    ``root`` is the checkout whose ``infrastructure/``, ``dist/`` and ``.local/auth`` are used. A local apply
    first brings state and emulator in step (:func:`sync_local`, unless ``sync`` says it was done) and records,
    when it succeeds, the emulator instance it applied into.
    """
    directory = workdir(env, root, base)
    local_apply = env == "local" and command == "apply"
    inputs = None
    if local_apply and endpoint:
        if sync is None:
            sync = sync_local(directory, endpoint)
        inputs = local_inputs(endpoint, root)
    changes_state = command in ("apply", "destroy")
    if changes_state:
        (directory / APPLIED_TO).unlink(missing_ok=True)
        (directory / APPLIED_INPUTS).unlink(missing_ok=True)
    started: Callable[[int], None] | None = None
    if changes_state and env == "local":
        marker = f"{os.getpid()} {emulator.process_started(os.getpid())}"
        (directory / APPLYING).write_text(marker)

        def started(group: int) -> None:
            (directory / APPLYING).write_text(f"{marker} {group}")

    environ = cli_config(mirror)
    terraform = shutil.which("terraform") or "terraform"
    if _needs_init(directory) or command == "init":
        init = [terraform, "init", "-input=false", "-upgrade=false"]
        if env != "local":
            init.append(f"-backend-config={root / 'infrastructure' / 'environments' / f'{env}.s3.tfbackend'}")
        code, _ = _run(init + (extra if command == "init" else []), directory, environ, quiet)
        if code or command == "init":
            return code
    parallelism = [f"-parallelism={LOCAL_PARALLELISM}"] if env == "local" else []
    tail = {
        "plan": ["plan", "-input=false", *variables(env, endpoint, root)],
        "apply": ["apply", "-input=false", "-auto-approve", *parallelism, *variables(env, endpoint, root)],
        "destroy": ["destroy", "-input=false", "-auto-approve", *parallelism, *variables(env, endpoint, root)],
        "refresh-plan": [
            "plan",
            "-input=false",
            "-refresh-only",
            "-detailed-exitcode",
            *variables(env, endpoint, root),
        ],
        "output": ["output"],
    }[command]
    # A local apply's output is kept (and shown as it comes, unless quiet) to recognise a create sent twice.
    code, failure = _run([terraform, *tail, *extra], directory, environ, quiet, started, keep=local_apply)
    if code and local_apply and sync is not None and sync.reset and sync.instance is not None and endpoint:
        created_twice = created_twice_by_name(failure)
        if created_twice:
            # Nothing the state did not create was there: what the error names is the provider's own first create.
            print(
                "terraform apply ENV=local met what it had just created (the provider sent a create twice): taking "
                f"{', '.join(address for address, _ in created_twice)} into the state and applying once more",
                file=sys.stderr,
                flush=True,
            )
            # Import blocks, applied with the rest: `terraform import` refuses a configuration whose for_each keys
            # wait on resources this apply has not created yet (the route permissions' function names).
            (directory / CREATED_TWICE_IMPORTS).write_text(
                "".join(
                    f"import {{\n  to = {address}\n  id = {json.dumps(id_)}\n}}\n" for address, id_ in created_twice
                )
            )
            try:
                # The state was written by this apply into this very server: nothing to refresh.
                code, failure = _run(
                    [terraform, *tail, "-refresh=false", *extra], directory, environ, quiet, started, keep=True
                )
            finally:
                (directory / CREATED_TWICE_IMPORTS).unlink(missing_ok=True)
        if code and CREATED_TWICE.search(failure):
            # Nothing the state did not create was there (a moto server of ours, emptied just before): once more,
            # into a new server, where no call of this apply can land twice.
            print(
                "terraform apply ENV=local met what it had just created (the provider sent a create twice): "
                "applying once more, into a new moto server",
                file=sys.stderr,
                flush=True,
            )
            sync = LocalSync(emulator.restart(endpoint), in_step=False, reset=True)
            forget_local_state(directory)
            (directory / APPLYING).write_text(marker)
            code, _ = _run([terraform, *tail, *extra], directory, environ, quiet, started, keep=True)
    if changes_state and env == "local" and code == 0:
        (directory / APPLYING).unlink()
        if local_apply and sync is not None and sync.instance is not None and inputs is not None:
            (directory / APPLIED_TO).write_text(sync.instance)
            (directory / APPLIED_INPUTS).write_text(inputs)
    return code


def created_twice_by_name(failure: str) -> list[tuple[str, str]]:
    """The (address, import id) of each create that failed in ``failure`` as one sent twice does, when every one of
    them is of a resource imported by its name (``IMPORTED_BY_NAME``); [] when any is not (or none is there)."""
    found = []
    for error in ANSI_ESCAPE.sub("", failure).replace("│", " ").split("Error: ")[1:]:
        create, address = CREATE_FAILED.match(error), ERROR_ADDRESS.search(error)
        if not (create and address and CREATED_TWICE.search(error)):
            return []
        if address["address"].split(".")[-2] not in IMPORTED_BY_NAME:
            return []
        found.append((address["address"], create["id"]))
    return found


def _run(
    command: list[str],
    directory: Path,
    environ: dict[str, str],
    quiet: bool,
    started: Callable[[int], None] | None = None,
    keep: bool = False,
) -> tuple[int, str]:
    """Run terraform in a process group of its own, given to ``started``, so that Ctrl-C reaches it once, from here.
    Returns its exit code and, when it failed and its output was kept (``quiet``, or ``keep``: shown as it comes
    and kept too), the end of that output; ``quiet`` prints it then.

    Terraform stops gracefully on one interrupt: it finishes the calls it has in flight and writes its state. Killed
    instead (what `subprocess.run` does 0.25 s after a Ctrl-C), its providers live on and go on creating resources
    after the next apply emptied the emulator. A second Ctrl-C kills the group. Whatever of the group outlives
    terraform is killed when it exits.
    """
    with tempfile.TemporaryFile("w+", errors="replace") as output:
        shown = None
        if quiet:
            stdout: Any = output
        elif keep:
            stdout = subprocess.PIPE
        else:
            stdout = None
        process = subprocess.Popen(
            command,
            cwd=directory,
            env=environ,
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout is not None else None,
            process_group=0,
        )
        if process.stdout is not None:
            shown = threading.Thread(target=_show_and_keep, args=(process.stdout, output), daemon=True)
            shown.start()
        if started is not None:
            started(process.pid)
        try:
            code = _wait_stopping_gracefully(process)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            if shown is not None:
                shown.join(timeout=5)  # the group is gone: what is left in the pipe, then its end
        failure = ""
        if code and stdout is not None:
            output.seek(0)
            failure = output.read()[-40000:]
            if quiet:
                print(failure, file=sys.stderr)
    return code, failure


def _show_and_keep(stream: IO[bytes], kept: IO[str]) -> None:
    """Copy terraform's output to this process's output as it comes, and to ``kept``."""
    for line in iter(stream.readline, b""):
        text = line.decode(errors="replace")
        sys.stdout.write(text)
        sys.stdout.flush()
        kept.write(text)


def _wait_stopping_gracefully(process: subprocess.Popen[bytes]) -> int:
    try:
        return process.wait()
    except KeyboardInterrupt:
        print(
            "\nCtrl-C: terraform is stopping: it finishes the calls it has in flight and writes its state "
            "(Ctrl-C again kills it)",
            file=sys.stderr,
            flush=True,
        )
        process.send_signal(signal.SIGINT)
        try:
            process.wait()
        except KeyboardInterrupt:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="terraform for one environment")
    parser.add_argument("env", choices=ENVIRONMENTS)
    parser.add_argument("command", choices=["init", "plan", "apply", "destroy", "output", "refresh-plan"])
    parser.add_argument("--mirror", default=provider_mirror())
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL") or None)
    parser.add_argument("--workdirs", type=Path, default=None, help="where working directories live")
    args, extra = parser.parse_known_args(argv)
    return run(args.env, args.command, extra, args.mirror, args.endpoint, args.workdirs)


if __name__ == "__main__":
    sys.exit(main())
