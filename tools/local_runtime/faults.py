"""Faults at the network edge of the local platform, one at a time, for the fault-injection suite.

A :class:`Faults` plan holds rules; the local platform consults it where a request leaves
a function: :class:`FaultyAwsEndpoint`, a reverse proxy the functions use as their AWS
endpoint (DynamoDB, Kinesis, Translate, Polly... in front of the emulator), and the local
Management API (``execute-api``, ``PostToConnection``). A rule that matches a request
answers it with an AWS error (status, ``__type``/``x-amzn-ErrorType``) as the service
would, or holds it for ``delay`` seconds first (past a function's timeout, say) and then
serves it normally. Nothing above the wire changes: the functions' own boto3 clients,
their retries and their error handling run as on AWS.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from local_runtime.quiet_server import QuietHTTPServer, QuietRequestHandler

CREDENTIAL = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/(?P<service>[^/]+)/aws4_request")
#: hop-by-hop headers a proxy does not pass on (and the length, which it sets itself)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer", "upgrade"}
#: what the proxy's own response line sets
OWN_HEADERS = {"server", "date"}


@dataclass
class Fault:
    """Answer ``times`` requests of ``service`` (its signing name: ``dynamodb``, ``translate``, ``polly``,
    ``execute-api``...) with ``status``/``code``; only ``operation`` (``X-Amz-Target``'s action, or
    ``PostToConnection``) and bodies matching ``pattern`` when given. ``status`` None with a ``delay``:
    hold the request that long, then serve it."""

    service: str
    operation: str | None = None
    pattern: str | None = None
    status: int | None = 500
    code: str = "InternalFailure"
    times: int = 1
    delay: float = 0.0
    injected: int = 0

    def matches(self, service: str, operation: str | None, body: bytes) -> bool:
        if self.injected >= self.times or service != self.service:
            return False
        if self.operation is not None and operation != self.operation:
            return False
        return self.pattern is None or re.search(self.pattern, body.decode("utf-8", "replace")) is not None


class Faults:
    """The faults armed now; thread-safe, each request consumes at most one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []
        #: every fault ever armed, with how often it struck
        self.history: list[Fault] = []

    def arm(self, fault: Fault) -> Fault:
        with self._lock:
            self._armed.append(fault)
            self.history.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._armed = []

    def take(self, service: str, operation: str | None, body: bytes) -> Fault | None:
        with self._lock:
            for fault in self._armed:
                if fault.matches(service, operation, body):
                    fault.injected += 1
                    return fault
        return None

    @staticmethod
    def error_body(fault: Fault) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"__type": fault.code, "message": f"injected {fault.code}"}).encode()
        return body, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": fault.code}


def request_service(authorization: str) -> str:
    match = CREDENTIAL.search(authorization or "")
    return match["service"] if match else ""


def request_operation(target: str | None) -> str | None:
    """``DynamoDB_20120810.Query`` → ``Query`` (JSON protocols name the operation in ``X-Amz-Target``)."""
    return target.rsplit(".", 1)[-1] if target else None


class FaultyAwsEndpoint:
    """A reverse proxy to the emulator at ``upstream`` on 127.0.0.1, applying ``faults``."""

    def __init__(self, upstream: str, faults: Faults, host: str = "127.0.0.1") -> None:
        self.upstream = urlsplit(upstream)
        self.faults = faults
        self._server = QuietHTTPServer((host, 0), _proxy_handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="faulty-aws-endpoint", daemon=True)
        self.url = f"http://{host}:{self._server.server_address[1]}"

    def start(self) -> FaultyAwsEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _proxy_handler(owner: FaultyAwsEndpoint) -> type[QuietRequestHandler]:
    class Handler(QuietRequestHandler):
        def _proxy(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fault = owner.faults.take(
                request_service(self.headers.get("Authorization", "")),
                request_operation(self.headers.get("X-Amz-Target")),
                body,
            )
            if fault is not None:
                time.sleep(fault.delay)
                if fault.status is not None:
                    self.answer(fault.status, *Faults.error_body(fault))
                    return
            upstream = http.client.HTTPConnection(owner.upstream.netloc, timeout=120)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                passed = {k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP | OWN_HEADERS}
            finally:
                upstream.close()
            try:
                self.answer(response.status, payload, passed)
            except OSError:
                pass  # the caller gave up (a function that timed out while its call was held)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _proxy  # noqa: N815 - the http.server API

    return Handler
