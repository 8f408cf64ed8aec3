"""One Lambda function's initialised process, and the execution environments started from it.

Started by :mod:`local_runtime.functions` as ``python -I worker.py <control socket fd>
<handler> <path>...`` with the function's own environment. It imports the handler once
(Lambda's init phase) and says so on the control socket; then each message there (with
the two pipe ends of a new environment, and the environment's own variables) forks one
execution environment from it, as Lambda SnapStart resumes environments from a snapshot
taken after init. An environment reads requests and writes responses as JSON lines on its
two pipes; the handler's stdout and stderr are the function's log. Standard library only:
this file runs beside the function's code.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

#: the largest message on the control socket (an environment's own variables; the local runtime reads it too)
MESSAGE_BYTES = 65536


class LambdaContext:
    def __init__(self, request_id: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ.get("LOCAL_FUNCTION_ARN", "")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.time()) * 1000), 0)


def main() -> None:
    control_fd, handler_path, *paths = sys.argv[1:]
    sys.path[:0] = paths
    module_name, attribute = handler_path.rsplit(".", 1)
    control = socket.socket(fileno=int(control_fd))
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
        init_error = None
    except Exception as exc:  # noqa: BLE001 - reported to every invocation, as Lambda does
        handler, init_error = None, exc
        traceback.print_exc()
    # The init phase is over: environments start from here.
    control.sendall(json.dumps({"ready": init_error is None}).encode())
    # Environments that end are reaped by the system; each resets this for the subprocesses it runs.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        message, fds, _, _ = socket.recv_fds(control, MESSAGE_BYTES, 2)
        if not message:
            return  # the local runtime is gone
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.environ.update(json.loads(message))
            _serve(handler, init_error, os.fdopen(fds[0], "r"), os.fdopen(fds[1], "w"))
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        for fd in fds:
            os.close(fd)
        control.sendall(json.dumps({"pid": pid}).encode())


def _serve(
    handler: Callable[[Any, LambdaContext], Any] | None,
    init_error: Exception | None,
    requests: TextIO,
    responses: TextIO,
) -> None:
    """One execution environment: invocations one at a time until the local runtime closes its pipe."""
    responses.write(json.dumps({"ready": init_error is None}) + "\n")
    responses.flush()
    for line in requests:
        request = json.loads(line)
        if init_error is not None or handler is None:
            reply = {"error": _error(init_error or RuntimeError("no handler"), "Runtime.ImportModuleError")}
        else:
            context = LambdaContext(request["requestId"], request["deadline"])
            try:
                reply = {"result": handler(request["event"], context)}
            except Exception as exc:  # noqa: BLE001 - an unhandled function error
                traceback.print_exc()
                reply = {"error": _error(exc)}
        sys.stdout.flush()
        sys.stderr.flush()
        responses.write(json.dumps(reply, default=str) + "\n")
        responses.flush()


def _error(exc: BaseException, error_type: str | None = None) -> dict:
    return {
        "errorType": error_type or type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }


if __name__ == "__main__":
    main()
