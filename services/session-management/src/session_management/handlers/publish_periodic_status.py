"""Schedule ``publish-periodic-status`` (every minute): ``sessionStatus`` with ``periodic`` to each speaker."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from session_management.app import SessionRuntime, on_event
from session_management.maintenance import publish_periodic_status


@on_event
def handler(event: dict[str, Any], runtime: SessionRuntime, context: LambdaContext) -> dict[str, Any]:
    return asdict(publish_periodic_status(runtime))
