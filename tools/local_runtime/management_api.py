"""The API Gateway Management API (``/@connections/{id}``) and the Lambda Invoke API over HTTP.

Handlers talk to it with their unchanged boto3 ``apigatewaymanagementapi`` client,
pointed here by ``MANAGEMENT_API_ENDPOINT``, and with their unchanged ``lambda``
client, pointed here by ``AWS_ENDPOINT_URL_LAMBDA``; their ``polly`` and ``translate`` clients reach
:mod:`local_runtime.stand_ins` here too. ``@connections`` posts draw on the account's request bucket
(:mod:`local_runtime.quotas`): past it, HTTP 429 ``LimitExceededException`` as API Gateway answers.
What happens to a message is up to a :class:`ConnectionSink`: the tests' :class:`RecordingSink` keeps messages per
connection; the local gateway delivers them to real WebSocket clients. Invocations go
to an :class:`Invoker` (the local function pool), when one is given.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict
from typing import Any, Protocol
from urllib.parse import unquote

from local_runtime.faults import Faults, request_operation, request_service
from local_runtime.quiet_server import QuietHTTPServer, QuietRequestHandler
from local_runtime.quotas import TokenBucket
from local_runtime.stand_ins import StoodInServices

PATH = re.compile(r"^(?:/[^/@]+)?/@connections/(?P<id>[^/?]+)$")
INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")


class Invoker(Protocol):
    def invoke(self, function: str, payload: Any, asynchronous: bool) -> tuple[Any, dict | None]:
        """(result, None) or (None, Lambda's error payload); raises KeyError for an unknown function."""
        ...


class ConnectionSink(Protocol):
    def post(self, connection_id: str, data: bytes) -> bool:
        """Deliver; False when the connection is gone."""
        ...

    def info(self, connection_id: str) -> dict | None: ...

    def close(self, connection_id: str) -> bool: ...


class RecordingSink:
    """Open connections and every message posted to each, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, float] = {}
        self.received: dict[str, list[dict]] = defaultdict(list)

    def open(self, connection_id: str) -> None:
        with self._lock:
            self._open[connection_id] = time.time()

    def post(self, connection_id: str, data: bytes) -> bool:
        with self._lock:
            if connection_id not in self._open:
                return False
            self.received[connection_id].append(json.loads(data))
            return True

    def info(self, connection_id: str) -> dict | None:
        with self._lock:
            opened = self._open.get(connection_id)
        if opened is None:
            return None
        return {
            "connectedAt": iso_timestamp(opened),
            "lastActiveAt": iso_timestamp(time.time()),
            "identity": {"sourceIp": "127.0.0.1"},
        }

    def close(self, connection_id: str) -> bool:
        with self._lock:
            return self._open.pop(connection_id, None) is not None

    def messages(self, connection_id: str, type_: str | None = None) -> list[dict]:
        with self._lock:
            return [m for m in self.received[connection_id] if type_ is None or m.get("type") == type_]


def iso_timestamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(seconds))


class ManagementApiServer:
    """Serves the Management API for one sink on 127.0.0.1 in a background thread."""

    def __init__(
        self,
        sink: ConnectionSink,
        host: str = "127.0.0.1",
        port: int = 0,
        stage: str = "local",
        invoker: Invoker | None = None,
        faults: Faults | None = None,
        stand_ins: StoodInServices | None = None,
        requests: TokenBucket | None = None,
    ) -> None:
        self.sink = sink
        #: Polly and Translate at the network edge, if this stack stands them in
        self.stand_ins = stand_ins
        #: the account's API Gateway request bucket ``@connections`` posts draw on, if emulated
        self.requests = requests
        #: faults to inject into Management API calls (the fault-injection suite), if any
        self.faults = faults
        self.host = host
        self.stage = stage
        self.invoker = invoker
        self._server = QuietHTTPServer((host, port), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="management-api", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def endpoint(self) -> str:
        """The Management API endpoint, as API Gateway's ``https://{api}/{stage}``."""
        return f"{self.base_url}/{self.stage}"

    def start(self) -> ManagementApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(owner: ManagementApiServer) -> type[QuietRequestHandler]:
    class Handler(QuietRequestHandler):
        def _connection_id(self) -> str | None:
            match = PATH.match(self.path.split("?", 1)[0])
            return unquote(match["id"]) if match else None

        def _reply(self, status: int, body: dict | None = None, error: str | None = None) -> None:
            payload = json.dumps(body if body is not None else ({"message": error} if error else {})).encode()
            if status in (202, 204):
                payload = b""
            headers = {"Content-Type": "application/json"} | ({"x-amzn-ErrorType": error} if error else {})
            self.answer(status, payload, headers)

        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            invoke = INVOKE_PATH.match(self.path.split("?", 1)[0])
            if invoke:
                self._invoke(unquote(invoke["name"]), data)
                return
            path = self.path.split("?", 1)[0]
            target = self.headers.get("X-Amz-Target")
            if owner.stand_ins is not None and owner.stand_ins.handles(path, target):
                # The fault plan reaches the stood-in services as it reaches the emulator (local_runtime.faults).
                service = request_service(self.headers.get("Authorization", ""))
                fault = owner.faults.take(service, request_operation(target), data) if owner.faults else None
                if fault is not None:
                    time.sleep(fault.delay)
                if fault is not None and fault.status is not None:
                    self.answer(fault.status, *Faults.error_body(fault))
                else:
                    answer = owner.stand_ins.answer(path, target, data)
                    self.answer(answer.status, answer.body, answer.headers)
                return
            connection_id = self._connection_id()
            if owner.requests is not None and not owner.requests.take():
                self._reply(429, error="LimitExceededException")
                return
            fault = owner.faults.take("execute-api", "PostToConnection", data) if owner.faults else None
            if fault is not None:
                time.sleep(fault.delay)
                if fault.status is not None:
                    self._reply(fault.status, error=fault.code)
                    return
            if connection_id is None:
                self._reply(404, error="NotFoundException")
            elif len(data) > 128 * 1024:
                self._reply(413, error="PayloadTooLargeException")
            elif owner.sink.post(connection_id, data):
                self._reply(200)
            else:
                self._reply(410, error="GoneException")

        def _invoke(self, function: str, data: bytes) -> None:
            invocation_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
            if owner.invoker is None:
                self._reply(404, error="ResourceNotFoundException")
                return
            try:
                payload = json.loads(data or b"null")
            except json.JSONDecodeError:
                self._reply(400, error="InvalidRequestContentException")
                return
            try:
                result, error = owner.invoker.invoke(function, payload, asynchronous=invocation_type == "Event")
            except KeyError:
                self._reply(
                    404, {"Type": "User", "message": f"Function not found: {function}"}, "ResourceNotFoundException"
                )
                return
            if invocation_type == "Event":
                self._reply(202)
                return
            body = json.dumps(error if error is not None else result).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Amz-Executed-Version", "$LATEST")
            if error is not None:
                self.send_header("X-Amz-Function-Error", "Unhandled")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            connection_id = self._connection_id()
            info = owner.sink.info(connection_id) if connection_id else None
            if info is None:
                self._reply(410, error="GoneException")
            else:
                self._reply(200, info)

        def do_DELETE(self) -> None:
            connection_id = self._connection_id()
            if connection_id and owner.sink.close(connection_id):
                self._reply(200)
            else:
                self._reply(410, error="GoneException")

    return Handler
