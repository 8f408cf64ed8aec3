"""DynamoDB access. Services receive these; nothing else talks to DynamoDB."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError


def if_condition_holds(operation: Callable[..., dict[str, Any]], **request: Any) -> dict[str, Any] | None:
    """A conditional write (``table.update_item``, ``table.delete_item``...) with ``request``: its response,
    or None when its ``ConditionExpression`` did not hold. Any other error is raised."""
    try:
        return operation(**request)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise
