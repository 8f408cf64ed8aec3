"""The local gateway: connect+join rate and fan-out through the Management API, each next to the gateway alone.

- connect+join: listeners per second through the deployed functions (authorizer,
  $connect, joinSession), next to connect+message through the gateway with a no-op
  function, as a ratio.
- fan-out: one message to 500 and 5,000 connected listeners through the shared
  Notifier (boto3 Management API client, bounded pool) in a process of its own, as a
  function runs under `make dev`, and split in slices across as many such processes
  as the machine has cores (as the platform's fan-out slices run in the local
  function pool), each next to the gateway sending the same message to all of them
  directly, as a ratio of rates; per-listener delivery p50/p95, and the CPU each
  Management API call costs the sender and the local runtime.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
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
from tests.support.running_platform import serving_applied_platform

JOINERS = 200
CONCURRENCY = 8
AUDIENCES = (500, 5000)
FAN_OUT_CONCURRENCY = 32
#: the fan-out split across this many sender processes: one per core, at most the 8 the local function pool runs
SENDERS = min(8, max(2, os.cpu_count() or 1))


def run() -> None:
    raw_rate = asyncio.run(_raw_connect_rate())
    with serving_applied_platform(max_concurrency=CONCURRENCY) as running:
        rate = asyncio.run(_connect_join_rate(running.url))
    print(f"== connect+join, {JOINERS} listeners, {CONCURRENCY} at a time")
    print(f"  through the deployed functions: {rate:7.1f} listeners/s")
    print(f"  gateway alone (no-op function): {raw_rate:7.1f} connections/s")
    print(f"  ratio functions / gateway alone: {rate / raw_rate:.3f}")
    print("== fan-out of one message (Management API through the shared Notifier vs the gateway alone)")
    for audience in AUDIENCES:
        runs = asyncio.run(_fan_out(audience))
        raw = runs.pop("gateway alone")
        print(
            f"  {audience:5d} listeners  {'gateway alone':<28} last {max(raw.delays):8.1f} ms  {describe(raw.delays)}\n"
            f"  {'':5s}            {'':<28} CPU per message: {raw.runtime_cpu_us:.0f} us"
        )
        for name, run_ in runs.items():
            print(
                f"  {audience:5d} listeners  {name:<28} last {max(run_.delays):8.1f} ms  {describe(run_.delays)}\n"
                f"  {'':5s}            {'':<28} rate {max(raw.delays) / max(run_.delays):.3f} of the gateway's;  "
                f"CPU per call: sender {run_.sender_cpu_us:.0f} us, local runtime {run_.runtime_cpu_us:.0f} us"
            )


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


@dataclass
class FanOutRun:
    delays: list[float]
    #: CPU seconds per Management API call in the sender processes and in this one (gateway, Management API, and
    #: the benchmark's own listeners receiving)
    sender_cpu_us: float = 0.0
    runtime_cpu_us: float = 0.0


async def _fan_out(audience: int) -> dict[str, FanOutRun]:
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
    ids = gateway.connection_ids()
    message = HeartbeatAck(timestamp=time.time())
    loop = asyncio.get_running_loop()
    # Each sender is a process of its own, as a function is under `make dev` (local_runtime.functions).
    spawn = multiprocessing.get_context("spawn")
    pipes = [spawn.Pipe() for _ in range(SENDERS)]
    senders = [
        spawn.Process(target=_sender, args=(end, management.endpoint), name="fan-out sender", daemon=True)
        for _, end in pipes
    ]
    for sender in senders:
        sender.start()
    for orders, _ in pipes:
        await loop.run_in_executor(None, orders.recv)  # its client is built and its connections are open

    async def received(ws: Any) -> float:
        await ws.recv()
        return time.perf_counter()

    async def measure(send: Any) -> FanOutRun:
        waits = [asyncio.create_task(received(ws)) for ws in sockets]
        await asyncio.sleep(0)
        cpu = time.process_time()
        started = time.perf_counter()
        sender_cpu = await send()
        delays = [(arrived - started) * 1000 for arrived in await asyncio.gather(*waits)]
        runtime_cpu = time.process_time() - cpu
        return FanOutRun(delays, sender_cpu / audience * 1e6, runtime_cpu / audience * 1e6)

    async def through(slices: list[list[str]]) -> float:
        for (orders, _), slice_ in zip(pipes, slices, strict=False):
            orders.send((slice_, message))
        answers = [await loop.run_in_executor(None, orders.recv) for (orders, _), _ in zip(pipes, slices, strict=False)]
        delivered = sum(count for count, _ in answers)
        assert delivered == audience, f"{delivered} of {audience} delivered"
        return sum(cpu for _, cpu in answers)

    async def gateway_alone() -> float:
        payload = json.dumps(message.to_wire())
        await asyncio.gather(*(gateway._connections[c].websocket.send(payload) for c in ids))  # noqa: SLF001
        return 0.0

    size = -(-audience // SENDERS)
    runs = {
        "gateway alone": await measure(gateway_alone),
        "management API, 1 sender": await measure(lambda: through([ids])),
        f"management API, {SENDERS} senders": await measure(
            lambda: through([ids[n : n + size] for n in range(0, audience, size)])
        ),
    }
    for orders, _ in pipes:
        orders.send(None)
    for sender in senders:
        sender.join()
    await asyncio.gather(*(ws.close() for ws in sockets))
    management.stop()
    await gateway.stop()
    return runs


def _sender(orders: Connection, endpoint: str) -> None:
    """A warm function's Notifier: its client built and its pool's connections open (one call per worker to
    connections that are gone), then one fan-out per order, answering with the count delivered and its CPU time."""
    notifier = Notifier(aws.client("apigatewaymanagementapi", endpoint_url=endpoint), concurrency=FAN_OUT_CONCURRENCY)
    notifier.fan_out([f"gone-{n}" for n in range(FAN_OUT_CONCURRENCY)], HeartbeatAck(timestamp=time.time()))
    orders.send(None)
    while (order := orders.recv()) is not None:
        ids, message = order
        cpu = time.process_time()
        delivered = notifier.fan_out(ids, message).delivered
        orders.send((delivered, time.process_time() - cpu))
