"""Schedule ``reconcile-counts`` (every 5 minutes): recount listeners from the index and the active sessions
createSession admits against, report and correct drift."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from session_management.app import SessionRuntime, on_event
from session_management.maintenance import reconcile_counts


@on_event
def handler(event: dict[str, Any], runtime: SessionRuntime, context: LambdaContext) -> dict[str, Any]:
    return asdict(reconcile_counts(runtime))
