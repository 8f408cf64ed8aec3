"""Staying connected (docs/PROTOCOL.md, "Connections"): heartbeats, and reconnecting with websockets' backoff.

API Gateway closes a connection after 10 minutes without a message from the client, so each client sends
``heartbeat`` every ``HEARTBEAT_SECONDS`` (as the web pages do). A dropped connection is opened again with
``async for ws in connect(...)``: websockets retries a failing connect with exponential backoff;
:class:`Reconnects` stops it after ``give_up_after`` seconds without a working connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from websockets.asyncio.client import connect
from websockets.client import backoff, process_exception
from websockets.exceptions import ConnectionClosed, WebSocketException

from broadcast_client.connection import ClientFailed, note

#: the protocol's interval (a heartbeat at least every 5 minutes) with a minute's margin, well under API
#: Gateway's 10-minute idle limit; the web pages send at the same (web/src/connection.ts ``HEARTBEAT_MS``)
HEARTBEAT_SECONDS = 240.0
#: the protocol asks for a heartbeat at least every 5 minutes
MAX_HEARTBEAT_SECONDS = 300.0
#: how long a client keeps trying to reconnect (the speaker's grace period is 60 s by default)
GIVE_UP_AFTER_SECONDS = 120.0
MAX_MESSAGE_BYTES = 2**20


class GaveUp(Exception):
    """No working connection for ``give_up_after`` seconds."""


def run_client(name: str, client: Coroutine[Any, Any, object]) -> int:
    """A command-line client's exit status: 0 when it ends or is interrupted (Ctrl-C), 1 when it cannot go on
    (its reason written to stderr after its name)."""
    try:
        asyncio.run(client)
    except KeyboardInterrupt:
        pass
    except (ClientFailed, GaveUp, WebSocketException, OSError) as error:
        note(f"{name}: {error}")
        return 1
    return 0


def heartbeat_seconds(text: str) -> float:
    """``--heartbeat``: more than 0 and at most the protocol's 5 minutes."""
    value = float(text)
    if not 0 < value <= MAX_HEARTBEAT_SECONDS:
        raise argparse.ArgumentTypeError(f"the heartbeat interval must be in (0, {MAX_HEARTBEAT_SECONDS:g}] seconds")
    return value


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--heartbeat",
        type=heartbeat_seconds,
        default=HEARTBEAT_SECONDS,
        metavar="SECONDS",
        help=f"send heartbeat this often (default {HEARTBEAT_SECONDS:g}; the protocol asks for at most 300)",
    )
    parser.add_argument(
        "--give-up-after",
        type=float,
        default=GIVE_UP_AFTER_SECONDS,
        metavar="SECONDS",
        help=f"stop reconnecting after this long without a connection (default {GIVE_UP_AFTER_SECONDS:g})",
    )


async def heartbeats(
    send: Callable[[str], Awaitable[None]],
    interval: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Send ``heartbeat`` every ``interval`` seconds until the connection closes."""
    message = json.dumps({"action": "heartbeat"})
    try:
        while True:
            await sleep(interval)
            await send(message)
    except ConnectionClosed:
        pass


class Reconnects:
    """Reconnecting's budget: transient connect errors are retried (websockets' ``process_exception`` decides
    which) and a connection that dropped before it was usable waits websockets' ``backoff`` delays, until
    ``give_up_after`` seconds passed since the last usable connection; then :class:`GaveUp`."""

    def __init__(self, give_up_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.give_up_after = give_up_after
        self._clock = clock
        self._since = clock()
        self._delays: Generator[float] | None = None
        self.last_error = "no connection yet"

    def usable(self) -> None:
        """The connection works (joined, or session created): the budget starts again."""
        self._since = self._clock()
        self._delays = None

    @property
    def spent(self) -> bool:
        return self._clock() - self._since >= self.give_up_after

    def process_exception(self, exc: Exception) -> Exception | None:
        self.last_error = str(exc) or type(exc).__name__
        fatal = process_exception(exc)
        if fatal is None and self.spent:
            return GaveUp(f"gave up after {self.give_up_after:g} s without a connection: {self.last_error}")
        if fatal is None:
            print(f"cannot connect ({self.last_error}); retrying", file=sys.stderr, flush=True)
        return fatal

    async def dropped(self, reason: str, was_usable: bool) -> None:
        """Before reconnecting after a drop: wait when the connection had not become usable (it is
        refused or dropped at once), and give up when the budget is spent."""
        self.last_error = reason
        if self.spent:
            raise GaveUp(f"gave up after {self.give_up_after:g} s without a connection: {reason}")
        if not was_usable:
            if self._delays is None:
                self._delays = backoff()
            await asyncio.sleep(next(self._delays))

    def connections(self, url: str, user_agent: str, **options: Any) -> connect:
        """``async for ws in ...``: a connection, then another after each drop."""
        return connect(
            url,
            process_exception=self.process_exception,
            max_size=MAX_MESSAGE_BYTES,
            user_agent_header=user_agent,
            **options,
        )
