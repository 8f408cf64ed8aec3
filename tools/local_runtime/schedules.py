"""EventBridge Scheduler schedules, run locally at their rate."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("local_runtime.schedules")
RATE = re.compile(r"^rate\((?P<n>\d+) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def interval_seconds(expression: str) -> float | None:
    """Seconds between runs of a ``rate(...)`` expression; None for cron (not run locally)."""
    match = RATE.match(expression)
    if match is None:
        return None
    return int(match["n"]) * SECONDS[match["unit"].rstrip("s")]


async def run_schedules(
    schedules: list[dict[str, Any]],
    invoke: Callable[[dict[str, Any], Any], Awaitable[Any]],
    interval_override: float | None = None,
) -> None:
    """Hand each schedule's input to ``invoke`` (with the schedule) at its rate (or every ``interval_override``
    seconds) until cancelled."""

    async def one(schedule: dict[str, Any]) -> None:
        interval = interval_override or interval_seconds(schedule["expression"])
        if interval is None:
            log.warning(
                "schedule %s: %s is not run locally (only rate expressions)", schedule["name"], schedule["expression"]
            )
            return
        event = json.loads(schedule.get("input") or "{}")
        while True:
            await asyncio.sleep(interval)
            try:
                await invoke(schedule, event)
            except Exception as exc:  # noqa: BLE001 - a failed run is logged; the next one still comes
                log.warning("schedule %s failed: %s", schedule["name"], exc)

    await asyncio.gather(*(one(schedule) for schedule in schedules))
