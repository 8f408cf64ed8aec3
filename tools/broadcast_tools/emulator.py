"""The AWS emulator for local runs: the one at AWS_ENDPOINT_URL, or a moto server we start.

python -m broadcast_tools.emulator ensure   # prints the endpoint; starts moto if needed
python -m broadcast_tools.emulator stop     # stops the moto server this tool started at MOTO_PORT
python -m broadcast_tools.emulator stop-all # stops every moto server this tool started (make clean)

Each moto server this tool starts detached has its pid in ``.local/emulator/moto-<port>.pid``, so servers on
different ports (a developer's and a test's) never take each other's place.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from broadcast_tools.artifacts import ROOT
from broadcast_tools.waiting import wait_for

STATE = ROOT / ".local" / "emulator"
#: how long a moto server may take to exit and free its port once stopped
STOP_WAIT_SECONDS = 30
#: what every client of the emulator signs with (the local environment's provider block and the local runtime's
#: functions use the same)
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
#: the module a moto server of ours runs (moto's server as broadcast_tools.moto_launcher.prepare_server changes it)
LAUNCHER = "broadcast_tools.moto_launcher"


def _pid_file(port: int | str) -> Path:
    legacy = STATE / "moto.pid"  # one file for every port, before per-port files: adopted for its server's port
    try:
        arguments = Path(f"/proc/{legacy.read_text().strip()}/cmdline").read_bytes().split(b"\0")
        legacy.replace(STATE / f"moto-{arguments[arguments.index(b'-p') + 1].decode()}.pid")
    except (OSError, ValueError, IndexError):
        legacy.unlink(missing_ok=True)
    return STATE / f"moto-{port}.pid"


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
    # A kept server's log is its port's; the servers tests start and stop share one.
    log = open(STATE / (f"moto-{port}.log" if detach else "moto.log"), "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        [sys.executable, "-m", LAUNCHER, "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=detach,
    )
    if detach:
        _pid_file(port).write_text(str(process.pid))
    endpoint = f"http://127.0.0.1:{port}"

    def started() -> bool:
        if process.poll() is not None:
            raise SystemExit(f"moto server exited; see {log.name}")
        return reachable(endpoint)

    if wait_for(started, 30, 0.2):
        return process
    process.kill()
    raise SystemExit("moto server did not start within 30 seconds")


def ensure(port: int) -> str:
    """The emulator endpoint, starting a moto server when AWS_ENDPOINT_URL is unset."""
    configured = os.environ.get("AWS_ENDPOINT_URL")
    if configured:
        return configured
    endpoint = f"http://127.0.0.1:{port}"
    if not reachable(endpoint):
        start_moto(port, detach=True)  # a new instance: `terraform apply ENV=local` starts its state afresh for it
    return endpoint


def process_started(pid: int | str) -> str | None:
    """When process ``pid`` started (clock ticks since boot), None when there is no such process or it has exited
    (a zombie its parent has not reaped yet): with the pid, it tells one process from a later one that reuses it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[19] if len(fields) > 19 and fields[0] != "Z" else None


def _port(endpoint: str) -> str:
    return endpoint.rstrip("/").rsplit(":", 1)[-1]


def instance(endpoint: str) -> str | None:
    """Which moto server answers at ``endpoint``, when it is the one this tool started detached: its pid and
    start time (a restarted server is another instance), else None (LocalStack, a server started elsewhere)."""
    port = _port(endpoint)
    try:
        pid = _pid_file(port).read_text().strip()
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    started = process_started(pid)
    ours = LAUNCHER.encode() in arguments and port.encode() in arguments
    if started is None or not ours or not reachable(endpoint):
        return None
    return f"moto pid {pid} started {started} at {endpoint}"


def reset(endpoint: str) -> None:
    """Empty the moto server at ``endpoint`` of every resource (moto's own reset API)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - local emulator
        pass


def restart(endpoint: str) -> str:
    """Replace the moto server this tool started at ``endpoint`` with a new, empty one; the new instance.

    Emptying it in place (:func:`reset`) is not enough after an apply that stopped half-way: the calls its provider
    cancelled were already sent, and a server still working through a backlog of them creates their resources after
    the reset. A new process never receives them.
    """
    port = _port(endpoint)
    stop(port, signal.SIGKILL)
    start_moto(int(port), detach=True)
    started = instance(endpoint)
    if started is None:
        raise SystemExit(f"the moto server restarted at {endpoint} does not answer: make emulator-stop, then run again")
    return started


def stop_all() -> list[int]:
    """Stop every moto server this tool started (whatever its port); their ports."""
    _pid_file(0)
    ports = [int(path.stem.removeprefix("moto-")) for path in STATE.glob("moto-*.pid")]
    return [port for port in ports if stop(port)]


def stop(port: int | str, how: signal.Signals = signal.SIGTERM) -> bool:
    """Stop the moto server this tool started at ``port``, once it has exited and its port is free (a ``make dev``
    right after must not find it still answering); False when none of ours was running there."""
    pid_file = _pid_file(port)
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    pid_file.unlink()
    try:
        os.killpg(pid, how)
    except ProcessLookupError:
        return False
    endpoint = f"http://127.0.0.1:{port}"
    if not wait_for(lambda: process_started(pid) is None and not reachable(endpoint), STOP_WAIT_SECONDS, 0.1):
        raise SystemExit(f"the moto server at {endpoint} (pid {pid}) did not stop: kill -9 -- -{pid}, then run again")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="AWS emulator for local runs")
    parser.add_argument("command", choices=["ensure", "stop", "stop-all"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("MOTO_PORT", "5000")))
    args = parser.parse_args(argv)
    if args.command == "ensure":
        print(ensure(args.port))
    elif args.command == "stop-all":
        stopped = stop_all()
        print(f"stopped the moto servers at ports {stopped}" if stopped else "no moto server of ours was running")
    else:
        print("stopped" if stop(args.port) else f"no moto server of ours was running at port {args.port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
