"""The local gateway: connect+join rate and fan-out through the Management API, each next to the gateway alone.

- connect+join: listeners per second through the deployed functions (authorizer,
  $connect, joinSession), next to connect+message through the gateway with a no-op
  function, as a ratio.
- fan-out: one message to 500 and 5,000 connected listeners through the shared
  Notifier (boto3 Management API client, bounded pool), next to the gateway sending
  the same message to all of them directly, as a ratio; per-listener delivery p50/p95.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from benchmarks.stats import describe
from broadcast_shared import aws
from broadcast_shared.messages.outbound import HeartbeatAck
from broadcast_shared.notifier import Notifier
from broadcast_tools import local_auth
from local_runtime.deployment import Deployment
from local_runtime.gateway import LocalGateway
from local_runtime.management_api import ManagementApiServer
from tests.support.deployment import apply_local
from tests.support.running_platform import RunningPlatform

JOINERS = 200
CONCURRENCY = 8
AUDIENCES = (500, 5000)


def run() -> None:
    raw_rate = asyncio.run(_raw_connect_rate())
    with tempfile.TemporaryDirectory() as scratch:
        deployment = apply_local(Path(scratch))
        deployed = next(deployment)
        try:
            with RunningPlatform(deployed["endpoint"], max_concurrency=CONCURRENCY) as running:
                rate = asyncio.run(_connect_join_rate(running.url))
        finally:
            next(deployment, None)
    print(f"== connect+join, {JOINERS} listeners, {CONCURRENCY} at a time")
    print(f"  through the deployed functions: {rate:7.1f} listeners/s")
    print(f"  gateway alone (no-op function): {raw_rate:7.1f} connections/s")
    print(f"  ratio functions / gateway alone: {rate / raw_rate:.3f}")
    print("== fan-out of one message (Management API through the shared Notifier vs the gateway alone)")
    for audience in AUDIENCES:
        managed, raw = asyncio.run(_fan_out(audience))
        print(f"  {audience:5d} listeners  management API: last {max(managed):8.1f} ms  {describe(managed)}")
        print(f"  {audience:5d} listeners  gateway alone:  last {max(raw):8.1f} ms  {describe(raw)}")
        print(f"  {audience:5d} listeners  ratio (time to last listener): {max(managed) / max(raw):.1f}x")


async def _connect_join_rate(url: str) -> float:
    async with connect(f"{url}?role=speaker&token={local_auth.token()}") as speaker:
        await speaker.send(json.dumps({"action": "createSession", "sourceLanguage": "en"}))
        session_id = json.loads(await speaker.recv())["sessionId"]
        drain = asyncio.create_task(_drain(speaker))
        gate = asyncio.Semaphore(CONCURRENCY)
        sockets: list[Any] = []

        async def join(n: int) -> None:
            async with gate:
                ws = await connect(f"{url}?role=listener")
                sockets.append(ws)
                language = ("es", "fr", "pt", "de")[n % 4]
                await ws.send(
                    json.dumps({"action": "joinSession", "sessionId": session_id, "targetLanguage": language})
                )
                reply = json.loads(await ws.recv())
                assert reply["type"] == "sessionJoined", reply

        started = time.perf_counter()
        await asyncio.gather(*(join(n) for n in range(JOINERS)))
        elapsed = time.perf_counter() - started
        drain.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets))
        return JOINERS / elapsed


async def _drain(ws: Any) -> None:
    async for _ in ws:
        pass


def _bare_gateway(invoke: Any) -> LocalGateway:
    deployment = Deployment(api_id="bench", api_name="bench", stage="local", region="eu-west-1")
    deployment.routes = {"$connect": "noop", "$default": "noop", "$disconnect": "noop"}
    return LocalGateway(deployment, invoke, port=0)


async def _raw_connect_rate() -> float:
    gateway = _bare_gateway(lambda function, event: {"statusCode": 200})
    await gateway.start()
    gate = asyncio.Semaphore(CONCURRENCY)
    sockets: list[Any] = []

    async def one() -> None:
        async with gate:
            ws = await connect(f"{gateway.url}?role=listener")
            sockets.append(ws)
            await ws.send('{"action":"noop"}')

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(JOINERS)))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(ws.close() for ws in sockets))
    await gateway.stop()
    return JOINERS / elapsed


async def _fan_out(audience: int) -> tuple[list[float], list[float]]:
    gateway = _bare_gateway(lambda function, event: {"statusCode": 200})
    await gateway.start()
    management = ManagementApiServer(gateway).start()
    sockets = []
    for start in range(0, audience, 250):
        sockets += await asyncio.gather(
            *(connect(f"{gateway.url}?role=listener", max_queue=4) for _ in range(min(250, audience - start)))
        )
    while gateway.open_connections < audience:
        await asyncio.sleep(0.05)
    ids = list(gateway._connections)  # noqa: SLF001 - the benchmark's own connections
    notifier = Notifier(aws.client("apigatewaymanagementapi", endpoint_url=management.endpoint), concurrency=32)
    message = HeartbeatAck(timestamp=time.time())
    loop = asyncio.get_running_loop()

    async def received(ws: Any) -> float:
        await ws.recv()
        return time.perf_counter()

    async def measure(send: Any) -> list[float]:
        waits = [asyncio.create_task(received(ws)) for ws in sockets]
        await asyncio.sleep(0)
        started = time.perf_counter()
        await send()
        return [(arrived - started) * 1000 for arrived in await asyncio.gather(*waits)]

    async def through_management_api() -> None:
        await loop.run_in_executor(None, notifier.fan_out, ids, message)

    async def gateway_alone() -> None:
        payload = json.dumps(message.to_wire())
        await asyncio.gather(*(gateway._connections[c].websocket.send(payload) for c in ids))  # noqa: SLF001

    managed = await measure(through_management_api)
    raw = await measure(gateway_alone)
    await asyncio.gather(*(ws.close() for ws in sockets))
    management.stop()
    await gateway.stop()
    return managed, raw
