"""One Lambda execution environment: imports a handler once and serves invocations.

Started by :mod:`local_runtime.functions` as ``python -I worker.py <request fd>
<response fd> <handler> <path>...`` with the function's own environment. Requests and
responses are JSON lines on the two pipes; the handler's stdout and stderr are the
function's log. Standard library only: this file runs beside the function's code.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback


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
    request_fd, response_fd, handler_path, *paths = sys.argv[1:]
    sys.path[:0] = paths
    module_name, attribute = handler_path.rsplit(".", 1)
    requests = os.fdopen(int(request_fd), "r")
    responses = os.fdopen(int(response_fd), "w")
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
        init_error = None
    except Exception as exc:  # noqa: BLE001 - reported to every invocation, as Lambda does
        handler, init_error = None, exc
        traceback.print_exc()
    # The init phase is over: invocations (and their timeout) start from here.
    responses.write(json.dumps({"ready": init_error is None}) + "\n")
    responses.flush()
    for line in requests:
        request = json.loads(line)
        if init_error is not None:
            reply = {"error": _error(init_error, "Runtime.ImportModuleError")}
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
