"""An API Gateway WebSocket API, locally, for the routes Terraform deployed.

It behaves as API Gateway does for a Lambda-proxy WebSocket API: ``$connect`` with
the query string and the REQUEST authorizer (identity sources required first), route
selection on the body's ``action`` with ``$default`` as fallback, ``$disconnect`` on
close, the event and context shapes Lambda receives, 128 KB message and 32 KB frame
limits (close 1009), the 10-minute idle and 2-hour connection limits (close 1001),
and the Management API for sends (410 for a closed connection).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers

from local_runtime.deployment import Deployment
from local_runtime.functions import FunctionError, Invoke, RuntimeStopping
from local_runtime.management_api import iso_timestamp
from local_runtime.metering import GatewayUsage
from local_runtime.quotas import TokenBucket
from local_runtime.web_pages import WebPages, is_websocket_upgrade

log = logging.getLogger("local_runtime.gateway")

MAX_MESSAGE_BYTES = 128 * 1024
MAX_FRAME_BYTES = 32 * 1024
IDLE_TIMEOUT_SECONDS = 600
#: how long a connection's opening handshake may take, the authorizer's and $connect's invocations included: API
#: Gateway's integration timeout (29 s), not the websockets server's 10 s, which dropped listeners joining at once
#: while the functions' environments started (four talks' audiences on two cores)
HANDSHAKE_TIMEOUT_SECONDS = 29
MAX_CONNECTION_SECONDS = 7200
ACCOUNT = "123456789012"


def new_connection_id() -> str:
    """Shaped like API Gateway's: 12 random bytes, base64."""
    return base64.b64encode(secrets.token_bytes(12)).decode()


@dataclass
class GatewayConnection:
    connection_id: str
    websocket: ServerConnection
    connected_at: float
    source_ip: str
    user_agent: str
    authorizer: dict[str, Any] = field(default_factory=dict)
    last_active: float = field(default_factory=time.time)
    #: the ``role`` query parameter (the cost meter counts messages and connection time by it)
    role: str = ""


class LocalGateway:
    """Serves one WebSocket API; ``sink`` methods make it the Management API's target."""

    def __init__(
        self,
        deployment: Deployment,
        invoke: Invoke,
        host: str = "127.0.0.1",
        port: int = 8765,
        idle_timeout: float = IDLE_TIMEOUT_SECONDS,
        max_connection_age: float = MAX_CONNECTION_SECONDS,
        executor: ThreadPoolExecutor | None = None,
        pages: WebPages | None = None,
        usage: GatewayUsage | None = None,
    ) -> None:
        self.deployment = deployment
        #: messages and connection time, for the cost meter (local_runtime.metering)
        self.usage = usage or GatewayUsage()
        self.pages = pages
        self._invoke = invoke
        self.host = host
        self.port = port
        self.idle_timeout = idle_timeout
        self.max_connection_age = max_connection_age
        self._executor = executor or ThreadPoolExecutor(max_workers=64, thread_name_prefix="gateway")
        self._connections: dict[str, GatewayConnection] = {}
        self._pending: dict[int, GatewayConnection] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._watchdog: asyncio.Task | None = None
        self._buckets: dict[str, TokenBucket] = {}

    # --- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            max_size=(MAX_MESSAGE_BYTES, MAX_FRAME_BYTES),
            ping_interval=None,
            open_timeout=HANDSHAKE_TIMEOUT_SECONDS,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._watchdog = asyncio.create_task(self._enforce_limits())

    async def stop(self) -> None:
        if self._watchdog:
            self._watchdog.cancel()
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/{self.deployment.stage}"

    # --- the Management API's side (called from its HTTP threads) -----------------
    def post(self, connection_id: str, data: bytes) -> bool:
        connection = self._connections.get(connection_id)
        if connection is None or self._loop is None:
            return False
        try:
            message: str | bytes = data.decode()
        except UnicodeDecodeError:
            message = data
        future = asyncio.run_coroutine_threadsafe(connection.websocket.send(message), self._loop)
        try:
            future.result(timeout=10)
        except Exception:  # noqa: BLE001 - a connection that died mid-send is gone
            return False
        self.usage.message("out", connection.role, data, connection_id)
        return True

    def info(self, connection_id: str) -> dict | None:
        connection = self._connections.get(connection_id)
        if connection is None:
            return None
        return {
            "connectedAt": iso_timestamp(connection.connected_at),
            "lastActiveAt": iso_timestamp(connection.last_active),
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
        }

    def close(self, connection_id: str) -> bool:
        connection = self._connections.get(connection_id)
        if connection is None or self._loop is None:
            return False
        asyncio.run_coroutine_threadsafe(connection.websocket.close(1000, "closed by the server"), self._loop)
        return True

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    def connection_ids(self, user_agent: str | None = None) -> list[str]:
        """The open connections, or those whose client sent ``user_agent``."""
        return [c.connection_id for c in self._connections.values() if user_agent in (None, c.user_agent)]

    # --- the client's side ------------------------------------------------------------
    async def _process_request(self, websocket: ServerConnection, request: Any) -> Any:
        if self.pages is not None and not is_websocket_upgrade(request):
            return self.pages.respond(request, f"{self.host}:{self.port}")
        url = urlsplit(request.path)
        if url.path.rstrip("/") not in ("", f"/{self.deployment.stage}"):
            return websocket.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        multi_query = parse_qs(url.query, keep_blank_values=True)
        headers = _headers(request.headers)
        remote = websocket.remote_address[0] if websocket.remote_address else "127.0.0.1"
        connection = GatewayConnection(
            connection_id=new_connection_id(),
            websocket=websocket,
            connected_at=time.time(),
            source_ip=remote,
            user_agent=headers.get("User-Agent", ""),
            role=query.get("role", ""),
        )
        context = self._request_context(connection, "$connect", "CONNECT")
        authorizer = self.deployment.authorizer
        if authorizer is not None and "$connect" in self.deployment.routes:
            if not _identity_present(authorizer.identity_sources, query, headers):
                return websocket.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
            authorizer_event = {
                "type": "REQUEST",
                "methodArn": f"arn:aws:execute-api:{self.deployment.region}:{ACCOUNT}:"
                f"{self.deployment.api_id}/{self.deployment.stage}/$connect",
                "headers": headers,
                "multiValueHeaders": {k: [v] for k, v in headers.items()},
                "queryStringParameters": query,
                "multiValueQueryStringParameters": multi_query,
                "stageVariables": {},
                "requestContext": context,
            }
            try:
                policy = await self._call(authorizer.function, authorizer_event)
            except FunctionError:
                return websocket.respond(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error\n")
            if not _allows(policy):
                return websocket.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
            connection.authorizer = {"principalId": policy.get("principalId"), **(policy.get("context") or {})}
            context = self._request_context(connection, "$connect", "CONNECT")
        if "$connect" in self.deployment.routes:
            event: dict[str, Any] = {
                "headers": headers,
                "multiValueHeaders": {k: [v] for k, v in headers.items()},
                "queryStringParameters": query or None,
                "multiValueQueryStringParameters": multi_query or None,
                "requestContext": context,
                "isBase64Encoded": False,
            }
            try:
                response = await self._call(self.deployment.routes["$connect"], event)
            except FunctionError:
                return websocket.respond(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error\n")
            status = int((response or {}).get("statusCode", 200)) if isinstance(response, dict) else 200
            if not 200 <= status < 300:
                return websocket.respond(HTTPStatus(status), f"{HTTPStatus(status).phrase}\n")
        self._pending[id(websocket)] = connection
        return None

    async def _handle(self, websocket: ServerConnection) -> None:
        connection = self._pending.pop(id(websocket))
        self._connections[connection.connection_id] = connection
        tasks: set[asyncio.Task] = set()
        try:
            async for message in websocket:
                connection.last_active = time.time()
                task = asyncio.create_task(self._route(connection, message))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except Exception:  # noqa: BLE001 - a broken connection ends like a closed one
            log.debug("connection %s broke", connection.connection_id, exc_info=True)
        finally:
            # Gone from the Management API's view before $disconnect runs, as on AWS.
            self._connections.pop(connection.connection_id, None)
            self.usage.connection_closed(connection.role, time.time() - connection.connected_at)
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            await self._disconnect(connection)

    async def _route(self, connection: GatewayConnection, message: str | bytes) -> None:
        self.usage.message("in", connection.role, message)
        if isinstance(message, bytes):
            body, encoded, route_key = base64.b64encode(message).decode(), True, "$default"
        else:
            body, encoded, route_key = message, False, _select_route(message, self.deployment.routes)
        function = self.deployment.routes.get(route_key)
        if function is None:
            await self._send_gateway_error(connection, "Forbidden", _request_id())
            return
        if not self._admit(route_key):
            # As API Gateway does beyond a route's throttle: the function is never invoked. Refused before the
            # request context is built, so a flood costs the local gateway as little as it can.
            await self._send_gateway_error(connection, "Too Many Requests", _request_id())
            return
        context = self._request_context(connection, route_key, "MESSAGE")
        event = {"requestContext": context, "body": body, "isBase64Encoded": encoded}
        try:
            await self._call(function, event)
        except RuntimeStopping:
            return
        except FunctionError as error:
            log.warning("%s failed: %s", function, error.payload.get("errorMessage"))
            await self._send_gateway_error(connection, "Internal server error", context["requestId"])

    def _admit(self, route_key: str) -> bool:
        throttle = self.deployment.throttles.get(route_key) or self.deployment.throttles.get("*")
        if throttle is None:
            return True
        bucket = self._buckets.get(route_key)
        if bucket is None:
            bucket = self._buckets[route_key] = TokenBucket(*throttle)
        return bucket.take()

    async def _disconnect(self, connection: GatewayConnection) -> None:
        function = self.deployment.routes.get("$disconnect")
        if function is None:
            return
        websocket = connection.websocket
        context = self._request_context(connection, "$disconnect", "DISCONNECT")
        context["disconnectStatusCode"] = websocket.close_code if websocket.close_code is not None else 1006
        context["disconnectReason"] = websocket.close_reason or ""
        try:
            await self._call(function, {"requestContext": context, "isBase64Encoded": False})
        except RuntimeStopping:
            return
        except FunctionError as error:
            log.warning("$disconnect failed: %s", error.payload.get("errorMessage"))

    async def _send_gateway_error(self, connection: GatewayConnection, message: str, request_id: str) -> None:
        payload = {"message": message, "connectionId": connection.connection_id, "requestId": request_id}
        self.usage.message("out", connection.role, json.dumps(payload), connection.connection_id)
        try:
            await connection.websocket.send(json.dumps(payload))
        except Exception:  # noqa: BLE001 - closed meanwhile
            pass

    async def _call(self, function: str, event: dict[str, Any]) -> Any:
        assert self._loop is not None
        future: Future = self._executor.submit(self._invoke, function, event)
        return await asyncio.wrap_future(future)

    def _request_context(self, connection: GatewayConnection, route_key: str, event_type: str) -> dict[str, Any]:
        now = time.time()
        request_id = _request_id()
        context = {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "messageDirection": "IN",
            "stage": self.deployment.stage,
            "connectedAt": int(connection.connected_at * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            "requestId": request_id,
            "domainName": f"{self.host}:{self.port}",
            "connectionId": connection.connection_id,
            "apiId": self.deployment.api_id,
        }
        if event_type == "MESSAGE":
            context["messageId"] = _request_id()
        if connection.authorizer:
            context["authorizer"] = dict(connection.authorizer)
        return context

    async def _enforce_limits(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.idle_timeout / 4))
            now = time.time()
            for connection in list(self._connections.values()):
                if (
                    now - connection.last_active >= self.idle_timeout
                    or now - connection.connected_at >= self.max_connection_age
                ):
                    await connection.websocket.close(1001, "Going away")


def _request_id() -> str:
    return base64.b64encode(uuid.uuid4().bytes[:12]).decode()


def _select_route(body: str, routes: dict[str, str]) -> str:
    """``$request.body.action``: the action's route if deployed, else ``$default``."""
    try:
        data = json.loads(body)
    except ValueError:
        return "$default"
    action = data.get("action") if isinstance(data, dict) else None
    if isinstance(action, str) and action in routes and not action.startswith("$"):
        return action
    return "$default"


def _identity_present(sources: tuple[str, ...], query: dict[str, str], headers: dict[str, str]) -> bool:
    lowered = {k.lower(): v for k, v in headers.items()}
    for source in sources:
        if source.startswith("route.request.querystring."):
            if not query.get(source.removeprefix("route.request.querystring.")):
                return False
        elif source.startswith("route.request.header."):
            if not lowered.get(source.removeprefix("route.request.header.").lower()):
                return False
    return True


def _allows(policy: Any) -> bool:
    if not isinstance(policy, dict):
        return False
    statements = (policy.get("policyDocument") or {}).get("Statement") or []
    effects = [s.get("Effect") for s in statements if "execute-api:Invoke" in _as_list(s.get("Action"))]
    return bool(effects) and "Deny" not in effects and "Allow" in effects


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _headers(headers: Headers) -> dict[str, str]:
    return {key: value for key, value in headers.raw_items()}
