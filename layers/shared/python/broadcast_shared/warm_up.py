"""Warm-up invokes: an execution environment initialised before the first request that needs it.

A talk's first sentence would otherwise pay for every cold start on its path (``sendAudio``,
the transcription worker with its recogniser, the translation pipeline with its engines),
one after another. ``createSession`` sends a warm-up to the audio functions and the
worker sends one per listened language to the pipeline at a session's first audio
(docs/ARCHITECTURE.md, "Warm path"). A warm-up is an asynchronous invoke of the function
itself with a :class:`WarmUp` event (``{"type": "warmUp", "sourceLanguage": ..., "targetLanguage": ...}``,
the one model every producer builds and the entry point parses): Lambda starts (or reuses) an environment, the
shared entry point (:mod:`broadcast_shared.websocket`) builds the function's runtime and
lets it load what it would load on first use, and answers without serving anything. The
next invoke from any source (a route, a Kinesis batch) lands on that idle environment. A warm-up
the model refuses (or a runtime cannot use) is answered with its error code, logged and
counted (``WarmUpsRefused`` by code), never warmed with a made-up language.
"""

import json
from typing import Any, Literal, Protocol, runtime_checkable

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from broadcast_shared.errors import BroadcastError, invalid
from broadcast_shared.messages.wire import SourceLanguage, TargetLanguage, WireModel
from broadcast_shared.observability import count_by, logger, metrics

WARM_UP = "warmUp"


class WarmUp(WireModel):
    """A warm-up invoke's event: the session's language, and the listeners' for the translation pipeline."""

    type: Literal["warmUp"] = "warmUp"
    #: the speaker's language: the worker loads its recogniser, the pipeline translates from it
    source_language: SourceLanguage
    #: the language pair's target (the pipeline's warm-ups); absent for the audio functions
    target_language: TargetLanguage | None = None


def is_warm_up(event: object) -> bool:
    return isinstance(event, dict) and event.get("type") == WARM_UP


@runtime_checkable
class WarmsUp(Protocol):
    """A runtime that has more to load ahead of its first request than building itself; it raises a
    :class:`BroadcastError` for a warm-up it cannot use."""

    def warm_up(self, event: WarmUp) -> dict[str, Any]: ...


def warm(runtime: object, event: dict[str, Any]) -> dict[str, Any]:
    """Answer a warm-up: the runtime is built by now; let it load the rest of what the event names."""
    try:
        warm_up = WarmUp.model_validate(event)
        loaded = runtime.warm_up(warm_up) if isinstance(runtime, WarmsUp) else {}
    except ValidationError as exc:
        return _refuse(invalid(exc))
    except BroadcastError as error:
        return _refuse(error)
    logger.info("warmed up", extra=loaded)
    metrics.add_metric(name="WarmUps", unit=MetricUnit.Count, value=1)
    return {"warmedUp": True, **loaded}


def _refuse(error: BroadcastError) -> dict[str, Any]:
    logger.error("warm-up refused", extra={"code": error.code.value, "reason": error.message})
    count_by("WarmUpsRefused", code=error.code.value)
    return {"warmedUp": False, "code": error.code.value, "message": error.message}


class WarmUpInvoker:
    """Sends warm-ups; a failure is logged and counted and costs a cold start, nothing more."""

    def __init__(self, lambda_client: Any) -> None:
        self._lambda = lambda_client

    def send(self, function_name: str, event: WarmUp) -> bool:
        try:
            self._lambda.invoke(
                FunctionName=function_name, InvocationType="Event", Payload=json.dumps(event.to_wire()).encode()
            )
        except Exception as exc:  # noqa: BLE001 - botocore's retries are spent; a warm-up is never worth more
            logger.info("warm-up not sent", extra={"function": function_name, "error": str(exc)})
            metrics.add_metric(name="WarmUpsFailed", unit=MetricUnit.Count, value=1)
            return False
        return True
