"""A flood from one source while a real speaker talks, through the deployed local platform (issue 13).

50 listener connections from one address each send 100 invalid messages per second
for 10 s, while a speaker streams the test talk in real time and a listener hears it
in Spanish. Printed: the answers each attacking connection got per second (and how
many were ``RATE_LIMITED``), and the speaker's audio-to-final-transcript latency and
the listener's captions before, during and after the flood.

``FLOOD_CONNECTIONS``, ``FLOOD_RATE`` and ``FLOOD_SECONDS`` scale it down for a machine
whose local runtime (8 environments per function, one moto server) cannot take 5,000
invocations a second: there the emulator, not the platform, is what saturates.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import statistics
import threading
import time
from collections import Counter
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from benchmarks.harness import stream_the_talk
from benchmarks.stats import describe
from tests.support.running_platform import serving_applied_platform
from tests.support.talk import TalkResult

ATTACKERS = int(os.environ.get("FLOOD_CONNECTIONS", "50"))
MESSAGES_PER_SECOND = int(os.environ.get("FLOOD_RATE", "100"))
FLOOD_SECONDS = int(os.environ.get("FLOOD_SECONDS", "10"))
#: the flood starts this long after the speaker does
FLOOD_DELAY_SECONDS = 3.0


def run() -> None:
    with serving_applied_platform() as stack:
        # The attackers run in a process of their own, as they would on another machine: in this one
        # they would share the interpreter lock with the gateway and slow it for everyone.
        context = multiprocessing.get_context("spawn")
        connected, go, results = context.Event(), context.Event(), context.Queue()
        process = context.Process(target=_flood, args=(stack.url, connected, go, results), daemon=True)
        process.start()
        connected.wait(timeout=180)  # the attackers connect first, then wait for the signal
        timer = threading.Timer(FLOOD_DELAY_SECONDS, go.set)
        timer.start()
        result = stream_the_talk(stack, listeners=("es",))
        timer.cancel()
        flood = results.get(timeout=FLOOD_SECONDS + 120)
        process.join(timeout=10)
    report(flood, result)


def _flood(url: str, connected: Event, go: Event, results: Queue[Flood]) -> None:
    """The attacking process: connect, wait for ``go``, flood, and hand back what was answered.

    It runs at the lowest CPU priority: an attacker's CPU is not the platform's, and on a two-core machine an
    attacker at full priority would take one of the cores the emulated platform needs.
    """
    os.nice(19)
    flood = Flood(url)
    asyncio.run(flood.run(connected, go))
    results.put(flood)


class Flood:
    def __init__(self, url: str) -> None:
        self._url = f"{url}?role=listener"
        #: per connection: (seconds since the flood began, code or type) of every answer
        self.answers: list[list[tuple[float, str]]] = [[] for _ in range(ATTACKERS)]
        self.sent = 0
        self.connect_failures = 0
        #: time.monotonic(), which is the same clock in every process of the machine
        self.started = 0.0
        self.ended = 0.0

    async def run(self, connected: Event, go: Event) -> None:
        sockets = [await self._connect() for _ in range(ATTACKERS)]
        connected.set()
        await asyncio.to_thread(go.wait)
        self.started = time.monotonic()
        try:
            await asyncio.gather(*(self._attack(n, ws) for n, ws in enumerate(sockets)))
            self.ended = time.monotonic()
            await asyncio.sleep(3)  # answers still on their way
        finally:
            for ws in sockets:
                await ws.close()

    async def _connect(self) -> ClientConnection:
        """A listener connection; the local ``$connect`` may fail while its environments start on a loaded machine."""
        for attempt in range(5):
            try:
                return await connect(self._url)
            except InvalidStatus:
                self.connect_failures += 1
                await asyncio.sleep(0.5 * 2**attempt)
        return await connect(self._url)

    async def _attack(self, n: int, ws: ClientConnection) -> None:
        reader = asyncio.create_task(self._read(n, ws))
        interval = 1 / MESSAGES_PER_SECOND
        for i in range(MESSAGES_PER_SECOND * FLOOD_SECONDS):
            await ws.send("{not json")
            self.sent += 1
            await asyncio.sleep(max(0.0, self.started + (i + 1) * interval - time.monotonic()))
        await asyncio.sleep(3)
        reader.cancel()

    async def _read(self, n: int, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                message = json.loads(text)
                self.answers[n].append((time.monotonic() - self.started, message.get("code", message.get("type"))))
        except Exception:  # noqa: BLE001 - the connection closed
            return


def report(flood: Flood, result: TalkResult) -> None:
    seconds = max(1e-9, flood.ended - flood.started) if flood.started else 0.0
    print(f"== flood: {ATTACKERS} connections x {MESSAGES_PER_SECOND} invalid messages/s x {FLOOD_SECONDS} s from one")
    print("   address, while a speaker streams the talk in real time through the local platform")
    if not flood.started:
        print("  the flood never started")
        return
    per_second = [len(answers) / seconds for answers in flood.answers]
    busiest = [
        max(Counter(int(at) for at, _ in answers).values(), default=0) for answers in flood.answers
    ]  # the most answers one connection got in any one second
    codes = Counter(code for answers in flood.answers for _, code in answers)
    print(
        f"  sent {flood.sent} messages in {seconds:.1f} s ({flood.sent / seconds:.0f}/s); "
        f"$connect refused while connecting the attackers: {flood.connect_failures}"
    )
    print(
        f"  answers per connection per second: mean {statistics.fmean(per_second):.2f}, "
        f"max {max(per_second):.2f}, most in one second {max(busiest)} (sent {MESSAGES_PER_SECOND}/s); "
        f"by code: {dict(codes)}"
    )
    limited = sum(1 for answers in flood.answers if any(code == "RATE_LIMITED" for _, code in answers))
    print(f"  connections that got RATE_LIMITED: {limited} of {ATTACKERS}")
    window = (flood.started, flood.ended)
    for label, inside in (("during the flood", True), ("outside it", False)):
        latencies = _final_latencies(result, window, inside)
        print(f"  speaker's audio-to-final latency {label}: {describe(latencies) if latencies else 'no finals'}")
    heard = result.heard.get("es", [])
    during = sum(1 for arrived, _ in heard if window[0] <= arrived <= window[1])
    print(
        f"  transcripts to the speaker: {len(result.transcripts)} ({len(result.finals)} finals); "
        f"captions to the listener: {len(heard)}, {during} of them during the flood; errors to the speaker: "
        f"{[e.get('code') for e in result.errors]}"
    )


def _final_latencies(result: TalkResult, window: tuple[float, float], inside: bool) -> list[float]:
    return [latency for at, latency in result.final_latencies() if (window[0] <= at <= window[1] + 5) == inside]
