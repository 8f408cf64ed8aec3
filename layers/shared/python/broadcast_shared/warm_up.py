"""Warm-up invokes: an execution environment initialised before the first request that needs it.

A talk's first sentence would otherwise pay for every cold start on its path (``sendAudio``,
the transcription worker with its recogniser, the translation pipeline with its engines),
one after another. ``createSession`` sends a warm-up to the audio functions and the
worker sends one per listened language to the pipeline at a session's first audio
(docs/ARCHITECTURE.md, "Warm path"). A warm-up is an asynchronous invoke of the function
itself with ``{"type": "warmUp", ...}``: Lambda starts (or reuses) an environment, the
shared entry point (:mod:`broadcast_shared.websocket`) builds the function's runtime and
lets it load what it would load on first use, and answers without serving anything. The
next invoke from any source (a route, a Kinesis batch) lands on that idle environment.
"""

from __future__ import annotations

import json
from typing import Any, Protocol, runtime_checkable

from aws_lambda_powertools.metrics import MetricUnit

from broadcast_shared.observability import logger, metrics

WARM_UP = "warmUp"


def is_warm_up(event: object) -> bool:
    return isinstance(event, dict) and event.get("type") == WARM_UP


@runtime_checkable
class WarmsUp(Protocol):
    """A runtime that has more to load ahead of its first request than building itself."""

    def warm_up(self, event: dict[str, Any]) -> dict[str, Any]: ...


def warm(runtime: object, event: dict[str, Any]) -> dict[str, Any]:
    """Answer a warm-up: the runtime is built by now; let it load the rest."""
    loaded = runtime.warm_up(event) if isinstance(runtime, WarmsUp) else {}
    logger.info("warmed up", extra=loaded)
    metrics.add_metric(name="WarmUps", unit=MetricUnit.Count, value=1)
    return {"warmedUp": True, **loaded}


class WarmUpInvoker:
    """Sends warm-ups; a failure is logged and counted and costs a cold start, nothing more."""

    def __init__(self, lambda_client: Any) -> None:
        self._lambda = lambda_client

    def send(self, function_name: str, **fields: str) -> bool:
        event = {"type": WARM_UP, **fields}
        try:
            self._lambda.invoke(FunctionName=function_name, InvocationType="Event", Payload=json.dumps(event).encode())
        except Exception as exc:  # noqa: BLE001 - botocore's retries are spent; a warm-up is never worth more
            logger.info("warm-up not sent", extra={"function": function_name, "error": str(exc)})
            metrics.add_metric(name="WarmUpsFailed", unit=MetricUnit.Count, value=1)
            return False
        return True
