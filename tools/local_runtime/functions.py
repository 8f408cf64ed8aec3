"""Lambda functions run locally: warm worker processes per function, with timeouts.

Each function gets up to ``max_concurrency`` execution environments, each a process
with only the function's environment (plus the emulator endpoints), its code and
layers on ``sys.path``, started on first use and kept warm. The function's handler is
imported once, in a process of its own, and each environment is forked from it
(:class:`FunctionTemplate`). An invocation that runs past the function's timeout kills
its environment, as Lambda does.

A function's environments start one at a time: an invocation that finds none idle while
one is starting waits for whichever is free first. On AWS a new environment starts on its
own hardware; here every start takes the same two cores as the talks already running, and
eight at once (a burst of audio chunks, a room of listeners joining) each took eight times
as long while the queue behind them grew (docs/CAPACITY.md, "Locally"). Invocations that
wait are served first come, first served, each by whichever environment is free first (an
idle one, or the one started meanwhile): before, a thread that arrived as an environment
came free often took it ahead of those already waiting, and an invocation that started an
environment waited for its start (seconds, on busy cores) while the ones after it went
through, so a speaker's chunk could land seconds late and the worker bridged it as a gap.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from broadcast_tools import emulator
from local_runtime.deployment import FunctionConfig
from local_runtime.metering import InvocationUsage
from local_runtime.quotas import STREAMS_PATH
from local_runtime.worker import MESSAGE_BYTES

WORKER = Path(__file__).with_name("worker.py")
#: how long an environment may take to import its handler (Lambda's init phase), apart from the timeout
INIT_TIMEOUT_SECONDS = 60
#: what the Lambda Python runtime provides besides the function's code and layers (boto3)
RUNTIME_PACKAGES = [p for p in sys.path if p.endswith("site-packages")]

#: how the gateway and the event sources invoke a function: its name and event in, its answer out
Invoke = Callable[[str, Any], Any]


class FunctionError(Exception):
    """The function raised, or timed out; ``payload`` is what Lambda reports."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload.get("errorMessage", "function error"))
        self.payload = payload


class RuntimeStopping(FunctionError):
    """The local runtime is stopping: the invocation did not run, or its environment was stopped under it."""

    def __init__(self) -> None:
        super().__init__({"errorType": "Runtime.Stopping", "errorMessage": "the local runtime is stopping"})


@dataclass
class Endpoints:
    """Where a local function's AWS calls go."""

    aws: str
    lambda_: str | None = None
    management_api: str | None = None
    #: where Polly and Translate are stood in (local_runtime.stand_ins)
    stand_ins: str | None = None
    region: str = "eu-west-1"


class FunctionTemplate:
    """A function's initialised process (``worker.py``): its handler imported once, then each execution environment
    forked from it, as Lambda SnapStart resumes environments from a snapshot taken after init.

    On AWS each environment starts on hardware of its own; here every start takes the same two cores as the talks
    running, and an import of 0.3-0.5 s of CPU for each of the dozens of environments a few talks need (eight of
    ``sendAudio`` alone) put the first talks of a fresh platform 10-18 s behind (docs/CAPACITY.md, "Locally").
    A fork takes milliseconds. The init measured here is billed with every environment's first invocation, as
    Lambda bills each environment's init."""

    def __init__(self, config: FunctionConfig, endpoints: Endpoints, log: BinaryIO) -> None:
        self.config = config
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        paths = [str(config.code_dir), *map(str, config.layer_dirs), *RUNTIME_PACKAGES]
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(WORKER), str(theirs.fileno()), config.handler, *paths],
            env=_environment(config, endpoints),
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(theirs.fileno(),),
            cwd=config.code_dir,
        )
        theirs.close()
        self._lock = threading.Lock()
        try:
            self._control.settimeout(INIT_TIMEOUT_SECONDS)
            self._receive()  # the init is over (a failed import is reported to each invocation, as Lambda does)
        except (OSError, ValueError):
            self.stop()
            raise FunctionError(
                {"errorType": "Runtime.InitError", "errorMessage": "the handler did not initialise"}
            ) from None
        #: how long the init (the handler's import) took: billed with each environment's first invocation
        self.init_seconds = time.monotonic() - started

    def _receive(self) -> dict[str, Any]:
        message = self._control.recv(MESSAGE_BYTES)
        if not message:
            raise OSError("the function's process is gone")
        reply: dict[str, Any] = json.loads(message)
        return reply

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def start_environment(self) -> ExecutionEnvironment:
        """A new execution environment, forked from this initialised process."""
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        own = {"AWS_LAMBDA_LOG_STREAM_NAME": _log_stream()}
        try:
            with self._lock:
                socket.send_fds(self._control, [json.dumps(own).encode()], [request_read, response_write])
                pid = int(self._receive()["pid"])
        except (OSError, ValueError, KeyError):
            for fd in (request_write, response_read):
                os.close(fd)
            raise FunctionError(
                {"errorType": "Runtime.ExitError", "errorMessage": "the function's process is gone"}
            ) from None
        finally:
            os.close(request_read)
            os.close(response_write)
        return ExecutionEnvironment(self.config, Forked(pid), request_write, response_read)

    def stop(self) -> None:
        if self.alive:
            self.process.kill()
            self.process.wait()
        self._control.close()


class Forked:
    """A process forked by a function's template: not this process's child, so watched through a pidfd."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._lock = threading.Lock()
        try:
            self._fd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:
            self._fd = None  # already gone

    @property
    def alive(self) -> bool:
        with self._lock:
            if self._fd is None:
                return False
            readable, _, _ = select.select([self._fd], [], [], 0)  # a pidfd turns readable when its process exits
            return not readable

    def kill(self) -> None:
        """Kill it and wait (up to 5 s) until it is gone; once, whoever asks (a timeout, the pool closing)."""
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        except ProcessLookupError:
            pass
        select.select([fd], [], [], 5)
        os.close(fd)


class ExecutionEnvironment:
    def __init__(self, config: FunctionConfig, process: Forked, request_write: int, response_read: int) -> None:
        self.config = config
        self.process = process
        self._request_write = request_write
        self._responses = os.fdopen(response_read, "r")
        self._initialised = False

    def _reply(self, timeout: float) -> str | None:
        """The handler's next line; None when none came in time, "" when the process is gone (or was stopped
        meanwhile: the runtime stopping closes its pipe under a waiting invocation)."""
        try:
            ready, _, _ = select.select([self._responses], [], [], timeout)
            return self._responses.readline() if ready else None
        except (OSError, ValueError):
            return ""

    def await_init(self) -> None:
        """Wait for the handler's import (Lambda's init phase); a process that does not finish it is stopped."""
        line = self._reply(INIT_TIMEOUT_SECONDS)
        if not line:
            self.stop()
            raise FunctionError({"errorType": "Runtime.InitError", "errorMessage": "the handler did not initialise"})
        self._initialised = True

    def invoke(self, event: Any) -> Any:
        if not self._initialised:
            self.await_init()
        deadline = time.time() + self.config.timeout
        request = {"requestId": str(uuid.uuid4()), "deadline": deadline, "event": event}
        try:
            os.write(self._request_write, (json.dumps(request) + "\n").encode())
        except OSError:
            raise FunctionError({"errorType": "Runtime.ExitError", "errorMessage": "the runtime exited"}) from None
        line = self._reply(self.config.timeout)
        if line is None:
            self.stop()
            raise FunctionError(
                {"errorType": "Sandbox.Timedout", "errorMessage": f"Task timed out after {self.config.timeout} seconds"}
            )
        if not line:
            self.stop()
            raise FunctionError({"errorType": "Runtime.ExitError", "errorMessage": "the runtime exited"})
        reply = json.loads(line)
        if "error" in reply:
            raise FunctionError(reply["error"])
        return reply["result"]

    @property
    def alive(self) -> bool:
        return self.process.alive

    def stop(self) -> None:
        self.process.kill()
        for closer in (lambda: os.close(self._request_write), self._responses.close):
            try:
                closer()
            except OSError:
                pass


def _environment(config: FunctionConfig, endpoints: Endpoints) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": emulator.CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": emulator.CREDENTIALS["aws_secret_access_key"],
        "AWS_REGION": endpoints.region,
        "AWS_DEFAULT_REGION": endpoints.region,
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_size),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(config.timeout),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": _log_stream(),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
        "LAMBDA_TASK_ROOT": str(config.code_dir),
        "LOCAL_FUNCTION_ARN": config.arn,
        **config.environment,
        "AWS_ENDPOINT_URL": endpoints.aws,
    }
    if endpoints.lambda_:
        env["AWS_ENDPOINT_URL_LAMBDA"] = endpoints.lambda_
    if endpoints.stand_ins:
        # Polly and Translate stood in by the local runtime (local_runtime.stand_ins), under the account's quotas.
        env["AWS_ENDPOINT_URL_POLLY"] = env["AWS_ENDPOINT_URL_TRANSLATE"] = endpoints.stand_ins
        # The local recognisers' streams, under the account's concurrent-stream quota (engines/local_quota.py).
        env["LOCAL_STREAM_QUOTA_URL"] = f"{endpoints.stand_ins}{STREAMS_PATH}"
    if endpoints.management_api and "MANAGEMENT_API_ENDPOINT" in env:
        # As LocalStack does: the deployed callback URL points at AWS, the local one at us.
        env["MANAGEMENT_API_ENDPOINT"] = endpoints.management_api
    return env


def _log_stream() -> str:
    return f"local/{uuid.uuid4().hex}"


class FunctionPool:
    """Warm execution environments for every function, up to ``max_concurrency`` each."""

    def __init__(
        self,
        functions: dict[str, FunctionConfig],
        endpoints: Endpoints,
        log_dir: Path,
        max_concurrency: int = 8,
        usage: InvocationUsage | None = None,
    ) -> None:
        self.functions = functions
        #: requests and GB-seconds per function, for the cost meter (local_runtime.metering)
        self.usage = usage or InvocationUsage()
        self._endpoints = endpoints
        self._log_dir = log_dir
        self._max = max_concurrency
        self._idle: dict[str, list[ExecutionEnvironment]] = {name: [] for name in functions}
        self._count: dict[str, int] = dict.fromkeys(functions, 0)
        #: environments starting now (their handler importing), per function: one at a time
        self._starting: dict[str, int] = dict.fromkeys(functions, 0)
        #: the invocations waiting for an environment, per function, served first come first served
        self._waiting: dict[str, deque[object]] = {name: deque() for name in functions}
        #: a start that failed (its handler's import), for the first invocation in line to report
        self._failed: dict[str, deque[Exception]] = {name: deque() for name in functions}
        #: how long a started environment's init took, billed with its first invocation
        self._init_seconds: dict[ExecutionEnvironment, float] = {}
        #: environments serving an invocation now: closing the pool stops them too
        self._busy: set[ExecutionEnvironment] = set()
        #: each function's initialised process, its environments forked from it (made at its first start)
        self._templates: dict[str, FunctionTemplate] = {}
        #: each function's log, written by its environments
        self._logs: dict[str, BinaryIO] = {}
        self._condition = threading.Condition()
        self._closed = False

    def invoke(self, name: str, event: Any) -> Any:
        if name not in self.functions:
            raise KeyError(name)
        try:
            environment, init_seconds = self._acquire(name)
        except FunctionError:
            if self._closed:
                raise RuntimeStopping() from None
            raise
        started = time.monotonic() - init_seconds
        try:
            return environment.invoke(event)
        except FunctionError:
            if self._closed:
                raise RuntimeStopping() from None
            raise
        finally:
            # Billed from the handler's turn (a new environment's init included: Lambda bills it too) to its answer.
            self.usage.invoked(name, self.functions[name].memory_size, time.monotonic() - started)
            self._release(name, environment)

    def _acquire(self, name: str) -> tuple[ExecutionEnvironment, float]:
        """The first environment of the function to be free, with the seconds its start took when this is its first
        invocation (0 otherwise). Invocations that wait get one in the order they came, whichever comes free first:
        an idle one, or the one started meanwhile (one at a time, on a thread of its own, while any wait)."""
        with self._condition:
            ticket = object()
            waiting = self._waiting[name]
            waiting.append(ticket)
            try:
                while True:
                    if self._closed:
                        raise RuntimeStopping()
                    if waiting[0] is ticket:
                        if self._idle[name]:
                            environment = self._idle[name].pop()
                            self._busy.add(environment)
                            return environment, self._init_seconds.pop(environment, 0.0)
                        if self._failed[name]:
                            raise self._failed[name].popleft()
                    if self._count[name] < self._max and not self._starting[name]:
                        self._count[name] += 1
                        self._starting[name] += 1
                        threading.Thread(target=self._start, args=(name,), name=f"start-{name}", daemon=True).start()
                    self._condition.wait()
            finally:
                waiting.remove(ticket)
                self._condition.notify_all()  # the next in line

    def _start(self, name: str) -> None:
        """Start one environment of the function and offer it to whoever waits first."""
        try:
            environment, init_seconds = self._new_environment(name)
        except Exception as error:  # reported to the invocation first in line, as its own start's was
            self._start_failed(name, error)
            return
        self._started(name, environment, init_seconds)

    def _start_failed(self, name: str, error: Exception | None = None) -> None:
        """A start that gave no environment: its place is free, and ``error`` goes to the invocation first in line."""
        with self._condition:
            self._count[name] -= 1
            self._starting[name] -= 1
            if error is not None and self._waiting[name]:
                self._failed[name].append(error)
            self._condition.notify_all()

    def _new_environment(self, name: str) -> tuple[ExecutionEnvironment, float]:
        """A new environment of the function, initialised, and the init seconds it is billed (as Lambda bills each
        environment's init: the handler's import, and here the fork). Called by the function's one start at a time
        only."""
        template = self._template(name)
        starting = time.monotonic()
        environment = template.start_environment()
        environment.await_init()
        return environment, template.init_seconds + time.monotonic() - starting

    def _started(self, name: str, environment: ExecutionEnvironment, init_seconds: float) -> None:
        with self._condition:
            self._starting[name] -= 1
            self._failed[name].clear()
            if self._closed:
                environment.stop()
                self._count[name] -= 1
            else:
                self._idle[name].append(environment)
                self._init_seconds[environment] = init_seconds
            self._condition.notify_all()

    def provision(self, name: str, environments: int, event: Any) -> int:
        """Start environments of the function, one at a time, until it has ``environments`` (at most its maximum),
        each invoked once with ``event`` (a warm-up) before it serves, as provisioned concurrency keeps environments
        initialised; how many were started. Each warm-up is billed as an invocation, its environment's init with it."""
        started = 0
        while True:
            with self._condition:
                while self._starting[name] and not self._closed:
                    self._condition.wait()
                if self._closed or self._count[name] >= min(environments, self._max):
                    return started
                self._count[name] += 1
                self._starting[name] += 1
            environment: ExecutionEnvironment | None = None
            try:
                environment, init_seconds = self._new_environment(name)
                with self._condition:
                    self._busy.add(environment)  # closing the pool stops it too
                invoked = time.monotonic()
                try:
                    environment.invoke(event)
                finally:
                    seconds = init_seconds + time.monotonic() - invoked
                    self.usage.invoked(name, self.functions[name].memory_size, seconds)
            except Exception:
                if environment is not None:
                    environment.stop()
                    with self._condition:
                        self._busy.discard(environment)
                self._start_failed(name)
                raise
            with self._condition:
                self._busy.discard(environment)
            self._started(name, environment, 0.0)
            started += 1

    def _template(self, name: str) -> FunctionTemplate:
        """The function's initialised process, made (its handler imported) if it has none or it is gone. Called by
        the function's one start at a time only."""
        template = self._templates.get(name)
        if template is None or not template.alive:
            if template is not None:
                template.stop()
            if name not in self._logs:
                self._log_dir.mkdir(parents=True, exist_ok=True)
                self._logs[name] = open(self._log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the function's log
            template = self._templates[name] = FunctionTemplate(self.functions[name], self._endpoints, self._logs[name])
        return template

    def _release(self, name: str, environment: ExecutionEnvironment) -> None:
        with self._condition:
            self._busy.discard(environment)
            if environment.alive and not self._closed:
                self._idle[name].append(environment)
            else:
                environment.stop()
                self._count[name] -= 1
            self._condition.notify_all()

    @property
    def max_concurrency(self) -> int:
        """The most environments the pool runs of one function."""
        return self._max

    def starting(self, name: str) -> int:
        """How many environments of the function are starting now (at most one)."""
        with self._condition:
            return self._starting.get(name, 0)

    def queued(self) -> dict[str, int]:
        """Invocations waiting for an environment now, per function that has any."""
        with self._condition:
            return {name: len(waiting) for name, waiting in self._waiting.items() if waiting}

    def in_flight(self, name: str) -> int:
        """How many invocations of the function are running now."""
        with self._condition:
            return sum(1 for environment in self._busy if environment.config.name == name)

    def add(self, name: str) -> None:
        """Make room for a function added to ``functions`` after start."""
        with self._condition:
            self._idle.setdefault(name, [])
            self._count.setdefault(name, 0)
            self._starting.setdefault(name, 0)
            self._waiting.setdefault(name, deque())
            self._failed.setdefault(name, deque())

    def close(self) -> None:
        """Stop every environment, idle or busy: nothing keeps running once the runtime stops
        (a transcription worker reading ahead on its shard would otherwise outlive it)."""
        with self._condition:
            self._closed = True
            environments = [env for envs in self._idle.values() for env in envs] + list(self._busy)
            self._idle = {name: [] for name in self.functions}
            self._condition.notify_all()
        for environment in environments:
            environment.stop()
        for template in list(self._templates.values()):
            template.stop()
        for log in self._logs.values():
            log.close()
