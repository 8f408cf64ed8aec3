"""The AWS emulator for local runs: the one at AWS_ENDPOINT_URL, or a moto server we start.

python -m broadcast_tools.emulator ensure   # prints the endpoint; starts moto if needed
python -m broadcast_tools.emulator stop     # stops a moto server this tool started
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from broadcast_tools.artifacts import ROOT
from broadcast_tools.terraform import forget_local_state

STATE = ROOT / ".local" / "emulator"


def reachable(endpoint: str) -> bool:
    try:
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)  # noqa: S310 - local emulator
        return True
    except urllib.error.HTTPError:
        return True  # something answers (LocalStack has no /moto-api/)
    except (urllib.error.URLError, OSError):
        return False


def start_moto(port: int, detach: bool) -> subprocess.Popen:
    """Start a moto server on 127.0.0.1:port and wait until it answers.

    ``detach`` leaves it running after this process ends (for `make apply`), with its
    pid recorded for `make emulator-stop`; otherwise it is this process's child.
    """
    STATE.mkdir(parents=True, exist_ok=True)
    log = open(STATE / "moto.log", "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=detach,
    )
    if detach:
        (STATE / "moto.pid").write_text(str(process.pid))
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if reachable(endpoint):
            return process
        if process.poll() is not None:
            raise SystemExit(f"moto server exited; see {STATE / 'moto.log'}")
        time.sleep(0.2)
    process.kill()
    raise SystemExit("moto server did not start within 30 seconds")


def ensure(port: int) -> str:
    """The emulator endpoint, starting a moto server when AWS_ENDPOINT_URL is unset."""
    configured = os.environ.get("AWS_ENDPOINT_URL")
    if configured:
        return configured
    endpoint = f"http://127.0.0.1:{port}"
    if not reachable(endpoint):
        start_moto(port, detach=True)
        forget_local_state()
    return endpoint


def instance(endpoint: str) -> str | None:
    """Which moto server answers at ``endpoint``, when it is the one this tool started detached: its pid and
    start time (a restarted server is another instance), else None (LocalStack, a server started elsewhere)."""
    pid_file = STATE / "moto.pid"
    port = endpoint.rstrip("/").rsplit(":", 1)[-1]
    try:
        pid = pid_file.read_text().strip()
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        started = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None
    if b"moto.server" not in arguments or port.encode() not in arguments or not reachable(endpoint):
        return None
    return f"moto pid {pid} started {started} at {endpoint}"


def stop() -> bool:
    pid_file = STATE / "moto.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    pid_file.unlink()
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="AWS emulator for local runs")
    parser.add_argument("command", choices=["ensure", "stop"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("MOTO_PORT", "5000")))
    args = parser.parse_args(argv)
    if args.command == "ensure":
        print(ensure(args.port))
    else:
        print("stopped" if stop() else "no moto server of ours was running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
