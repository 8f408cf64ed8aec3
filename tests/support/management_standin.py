"""An API Gateway Management API stand-in with AWS-like behaviour, for the fan-out benchmark and the budget test.

- every ``POST /@connections/{id}`` waits a latency drawn from a log-normal distribution
  (default median 25 ms, p99 150 ms);
- an account-wide token bucket (default 10,000 requests/s, burst 5,000) answers 429
  ``TooManyRequestsException`` beyond it;
- a share of connections is gone: 410 ``GoneException``;
- it counts calls, 429s and 410s and records when each connection was delivered.

It runs on asyncio in its own process (``StandIn.start``), so its own work never
slows down the fan-out code measured against it.
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import random
import time
import zlib
from dataclasses import asdict, dataclass
from typing import Any

from local_runtime.quotas import TokenBucket
from tests.support.waiting import eventually

#: z-score of the 99th percentile of a standard normal distribution
Z99 = 2.3263


@dataclass(frozen=True)
class Behaviour:
    median_ms: float = 25.0
    p99_ms: float = 150.0
    rate_per_second: float = 10_000.0
    burst: float = 5_000.0
    gone_share: float = 0.01
    seed: int = 7

    @property
    def sigma(self) -> float:
        return math.log(self.p99_ms / self.median_ms) / Z99

    def is_gone(self, connection_id: str) -> bool:
        return zlib.crc32(connection_id.encode()) % 10_000 < self.gone_share * 10_000


async def _serve(behaviour: Behaviour, port: Any, commands: Any) -> None:
    rng = random.Random(behaviour.seed)
    bucket = TokenBucket(behaviour.rate_per_second, behaviour.burst)
    counts = {"calls": 0, "throttled": 0, "gone": 0}
    delivered: dict[str, float] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                head = request.decode("latin-1").split("\r\n")
                path = head[0].split(" ")[1]
                length = 0
                for line in head[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                if length:
                    await reader.readexactly(length)
                counts["calls"] += 1
                connection_id = path.rsplit("/", 1)[-1]
                if not bucket.take():
                    counts["throttled"] += 1
                    status, error = "429 Too Many Requests", "TooManyRequestsException"
                else:
                    await asyncio.sleep(rng.lognormvariate(math.log(behaviour.median_ms / 1000), behaviour.sigma))
                    if behaviour.is_gone(connection_id):
                        counts["gone"] += 1
                        status, error = "410 Gone", "GoneException"
                    else:
                        delivered[connection_id] = time.time()
                        status, error = "200 OK", ""
                body = json.dumps({"message": error}).encode() if error else b""
                headers = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Content-Type: application/json"]
                if error:
                    headers.append(f"x-amzn-ErrorType: {error}")
                writer.write(("\r\n".join(headers) + "\r\n\r\n").encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    port.value = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, commands.recv)
        if command == "report":
            commands.send({**counts, "delivered": dict(delivered)})
        if command == "reset":
            counts.update(calls=0, throttled=0, gone=0)
            delivered.clear()
            commands.send("ok")


def _main(behaviour: dict, port: Any, commands: Any) -> None:
    asyncio.run(_serve(Behaviour(**behaviour), port, commands))


class StandIn:
    """The stand-in in a process of its own; ``endpoint`` for boto3, ``report()`` for what it saw."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        context = multiprocessing.get_context("spawn")
        self._port = context.Value("i", 0)
        self._commands, child = context.Pipe()
        self._process = context.Process(target=_main, args=(asdict(self.behaviour), self._port, child), daemon=True)

    def start(self) -> StandIn:
        self._process.start()
        eventually(lambda: self._port.value, timeout=30, interval=0.01, what="the Management API stand-in starting")
        return self

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._port.value}/stage"

    def report(self) -> dict:
        self._commands.send("report")
        return self._commands.recv()

    def reset(self) -> None:
        self._commands.send("reset")
        self._commands.recv()

    def stop(self) -> None:
        self._process.terminate()
        self._process.join(5)
