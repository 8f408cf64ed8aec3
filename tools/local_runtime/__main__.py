"""The platform on this machine, from what Terraform deployed.

    python -m local_runtime dev   [--port 8765]   # emulator + guard + terraform apply + serve
    python -m local_runtime serve [--port 8765]   # serve what is already deployed at AWS_ENDPOINT_URL

``dev`` starts a moto server when none answers at MOTO_PORT and leaves it running
for the next ``dev`` (``make emulator-stop`` stops it); it prints how long each phase
took. When the local state is not known to match that moto server (an earlier run was
interrupted or failed, the server was restarted, ``make apply``/``destroy`` went
elsewhere), it empties the server and applies afresh. Ctrl-C stops everything else it
started: the gateway, every function process and the HTTP APIs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time

from broadcast_tools import emulator, local_auth
from broadcast_tools.artifacts import ROOT
from broadcast_tools.guard import check
from broadcast_tools.terraform import (
    LocalSync,
    local_inputs,
    provider_mirror,
    sync_local,
    unchanged_since_applied,
    workdir,
)
from broadcast_tools.terraform import run as terraform
from local_runtime.stack import LocalPlatform
from local_runtime.web_pages import LISTENER_PAGE, SPEAKER_PAGE

API_NAME = "speech-broadcast-local-websocket"


#: when `make setup` last finished (epoch seconds; scripts/setup.sh writes it)
SETUP_FINISHED = ROOT / ".local" / "setup-finished"


class Phases:
    """How long each phase of `make dev` took, one line each as it ends."""

    def __init__(self, since: float | None) -> None:
        self.started = since if since is not None else time.time()
        self._last = self.started
        self._setup_finished: float | None = None

    def done(self, phase: str, at: float | None = None) -> None:
        now = time.time() if at is None else at
        print(f"phase  {phase:<44} {now - self._last:6.1f} s", flush=True)
        self._last = now

    def setup(self, finished: float | None) -> None:
        """The setup `make dev` ran first (a fresh machine's), as a phase of its own, when it finished since."""
        if finished is not None and finished > self.started:
            self._setup_finished = finished
            self.done("setup (virtual environments, web packages)", at=finished)

    def serving(self) -> None:
        now = time.time()
        after_setup = "" if self._setup_finished is None else f", {now - self._setup_finished:.1f} s after setup"
        print(f"phase  {'serving, after':<44} {now - self.started:6.1f} s in all{after_setup}", flush=True)


def setup_finished() -> float | None:
    try:
        return float(SETUP_FINISHED.read_text())
    except (OSError, ValueError):
        return None


def deploy(endpoint: str, phases: Phases) -> None:
    verdict = check(ROOT, env="local")
    if not verdict.ok:
        raise SystemExit("guard: refusing to deploy:\n  - " + "\n  - ".join(verdict.problems))
    local_auth.ensure()
    print(f"guard: ok: {verdict.summary}")
    phases.done("guard")
    mirror = provider_mirror()
    # When the state was completely applied into this very emulator instance by the last apply and nothing else
    # writes resources there, Terraform plans against its state without reading every resource back
    # (-refresh=false), and is not run at all when nothing it reads changed since (the emulator's own quirks
    # aside, such an apply changes nothing). When they are not known to be in step (an interrupted or failed
    # apply, a restarted or other emulator, `make destroy`), a moto server of ours is emptied and the state
    # dropped first; any other emulator (LocalStack, a moto server started elsewhere) is refreshed as usual.
    directory = workdir("local")
    sync = sync_local(directory, endpoint)
    if unchanged_since_applied(directory, sync, local_inputs(endpoint)):
        print(f"terraform apply ENV=local into {endpoint}: skipped, nothing it reads changed since the last apply")
        phases.done("terraform apply (skipped: nothing changed)")
        return
    note = " (state applied here, no refresh)" if sync.in_step else ""
    print(f"terraform apply ENV=local into {endpoint}{note} …", flush=True)
    arguments = ["-no-color", "-compact-warnings", *(["-refresh=false"] if sync.in_step else [])]
    if terraform("local", "apply", arguments, mirror, endpoint, quiet=True, sync=sync) != 0:
        raise SystemExit(_apply_failed(endpoint, sync))
    phases.done("terraform apply" + (" (no refresh)" if sync.in_step else ""))


def _apply_failed(endpoint: str, sync: LocalSync) -> str:
    """Why the apply failed, as far as this tool can tell, and the command that fixes it."""
    if sync.instance is None:
        return (
            f"terraform apply ENV=local failed (its output is above). The emulator at {endpoint} is not a moto server "
            "this checkout started, so make dev does not empty it: if the error is a conflict ('already exists'), "
            "restart that emulator (or unset AWS_ENDPOINT_URL / use another MOTO_PORT), then run make dev again"
        )
    return (
        f"terraform apply ENV=local failed (its output is above) into {endpoint}, "
        f"{'emptied just before' if sync.reset else 'in step with the state'}: if the error is not in "
        "infrastructure/ or dist/, start from scratch with: make emulator-stop && make dev"
    )


async def serve(args: argparse.Namespace, endpoint: str, phases: Phases | None = None) -> None:
    stack = LocalPlatform(
        endpoint,
        api_name=args.api_name,
        port=args.port,
        idle_timeout=args.idle_timeout,
        schedule_interval=args.schedule_interval,
    )
    await stack.start()
    routes = ", ".join(sorted(stack.deployment.routes))
    print(f"WebSocket API {stack.deployment.api_name} ({len(stack.deployment.routes)} routes: {routes})")
    print(f"function logs: {ROOT / '.local' / 'logs'}")
    token = local_auth.token()
    print(f"listener:  {stack.url}?role=listener")
    print(f"speaker:   {stack.url}?role=speaker&token=<token below>")
    if stack.pages.built:
        print(f"listener page: {stack.site_url}{LISTENER_PAGE}")
        print(f"speaker page (signed in): {stack.site_url}{SPEAKER_PAGE}#token={token}")
    else:
        print("web pages: not built (make web)")
    if phases is not None:
        phases.done("local runtime start")
        phases.serving()
    print(f"serving {stack.url}  (Ctrl-C stops everything but the emulator)")
    print(token, flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    if args.warm:
        loop.run_in_executor(None, _warm, stack)
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    try:
        await stopped.wait()
    finally:
        await stack.stop()


def _warm(stack: LocalPlatform) -> None:
    started = time.monotonic()
    warmed = stack.warm_talk_path()
    if warmed:
        listed = ", ".join(f"{n} of {name}" for name, n in warmed.items())
        print(f"warmed the talk's path in {time.monotonic() - started:.0f} s: {listed}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local_runtime", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["dev", "serve"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8765")))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "5000")))
    parser.add_argument("--api-name", default=API_NAME)
    parser.add_argument("--idle-timeout", type=float, default=600, help="seconds (API Gateway: 600)")
    parser.add_argument("--schedule-interval", type=float, default=None, help="run schedules this often instead")
    parser.add_argument(
        "--warm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start and warm the talk's path once serving (default: with dev, not with serve)",
    )
    parser.add_argument(
        "--since", type=float, default=None, help="epoch seconds `make dev` started (its build is then a phase)"
    )
    args = parser.parse_args(argv)
    if args.warm is None:
        args.warm = args.command == "dev"
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)
    if args.command == "serve":
        asyncio.run(serve(args, os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{args.moto_port}"))
        return 0
    phases = Phases(args.since)
    if args.since is not None:
        phases.setup(setup_finished())
        phases.done("build (web pages, function artifacts)")
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        phases.done(f"emulator at AWS_ENDPOINT_URL {endpoint}")
    else:
        endpoint = f"http://127.0.0.1:{args.moto_port}"
        if emulator.reachable(endpoint):
            phases.done(f"emulator (running at {endpoint})")
        else:
            emulator.start_moto(args.moto_port, detach=True)  # a new instance: the apply drops the old state
            print(f"moto server started at {endpoint} (it keeps running for the next make dev; make emulator-stop)")
            phases.done("emulator (moto started)")
    try:
        deploy(endpoint, phases)
    except KeyboardInterrupt:
        print(
            "\ninterrupted before serving (the next make dev applies afresh what was left unfinished)", file=sys.stderr
        )
        return 130
    asyncio.run(serve(args, endpoint, phases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
