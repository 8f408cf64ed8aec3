"""The platform on this machine, from what Terraform deployed.

    python -m local_runtime dev   [--port 8765]   # emulator + guard + terraform apply + serve
    python -m local_runtime serve [--port 8765]   # serve what is already deployed at AWS_ENDPOINT_URL

Ctrl-C stops everything it started: the gateway, every function process, the HTTP
APIs, and the moto server if it started one.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from broadcast_tools import emulator, local_auth
from broadcast_tools.artifacts import ROOT
from broadcast_tools.guard import check
from broadcast_tools.terraform import forget_local_state
from broadcast_tools.terraform import run as terraform
from local_runtime.stack import LocalPlatform
from local_runtime.web_pages import LISTENER_PAGE, SPEAKER_PAGE

API_NAME = "speech-broadcast-local-websocket"


def deploy(endpoint: str, fresh: bool) -> None:
    verdict = check(ROOT, env="local")
    if not verdict.ok:
        raise SystemExit("guard: refusing to deploy:\n  - " + "\n  - ".join(verdict.problems))
    local_auth.ensure()
    if fresh:
        forget_local_state()  # the same working directory and state as `make apply ENV=local`
    mirror = os.environ.get("TF_PROVIDER_MIRROR") or None
    print(f"guard: ok: {verdict.summary}")
    print(f"terraform apply ENV=local into {endpoint} …", flush=True)
    if terraform("local", "apply", ["-no-color", "-compact-warnings"], mirror, endpoint, quiet=True) != 0:
        raise SystemExit("terraform apply ENV=local failed")


async def serve(args: argparse.Namespace, endpoint: str) -> None:
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
    print(f"serving {stack.url}  (Ctrl-C stops everything)")
    print(token, flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    try:
        await stopped.wait()
    finally:
        await stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local_runtime", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["dev", "serve"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8765")))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "5000")))
    parser.add_argument("--api-name", default=API_NAME)
    parser.add_argument("--idle-timeout", type=float, default=600, help="seconds (API Gateway: 600)")
    parser.add_argument("--schedule-interval", type=float, default=None, help="run schedules this often instead")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)
    moto = None
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    try:
        if not endpoint:
            endpoint = f"http://127.0.0.1:{args.moto_port}"
            if not emulator.reachable(endpoint):
                moto = emulator.start_moto(args.moto_port, detach=False)
                print(f"moto server started at {endpoint}")
        if args.command == "dev":
            deploy(endpoint, fresh=moto is not None)
        asyncio.run(serve(args, endpoint))
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
