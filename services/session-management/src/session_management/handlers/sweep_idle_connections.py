"""Schedule ``sweep-idle-connections`` (every minute): close idle connections, warn old ones."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from session_management.app import SessionRuntime, on_event
from session_management.maintenance import sweep_connections


@on_event
def handler(event: dict[str, Any], runtime: SessionRuntime, context: LambdaContext) -> dict[str, Any]:
    return asdict(sweep_connections(runtime))
