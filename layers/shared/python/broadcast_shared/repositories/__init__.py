"""DynamoDB access. Services receive these; nothing else talks to DynamoDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from botocore.exceptions import ClientError

V = TypeVar("V")

#: the most keys an execution environment keeps in what it remembers of a table (rows, counts taken ahead): a warm
#: environment serves many connections and sessions over its life
MAX_REMEMBERED_KEYS = 1024


def if_condition_holds(operation: Callable[..., dict[str, Any]], **request: Any) -> dict[str, Any] | None:
    """A conditional write (``table.update_item``, ``table.delete_item``...) with ``request``: its response,
    or None when its ``ConditionExpression`` did not hold. Any other error is raised."""
    try:
        return operation(**request)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise


def every_item(operation: Callable[..., dict[str, Any]], **request: Any) -> Iterator[dict[str, Any]]:
    """Every item a ``table.query`` or ``table.scan`` with ``request`` returns, page after page (the resource
    API has no paginator)."""
    while True:
        page = operation(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def remember(held: dict[str, V], key: str, value: V) -> None:
    """Keep ``value`` for ``key`` as the newest, forgetting the oldest key beyond :data:`MAX_REMEMBERED_KEYS` (it is
    read again, or what it held unspent is lost to this environment only)."""
    held.pop(key, None)
    held[key] = value
    if len(held) > MAX_REMEMBERED_KEYS:
        del held[next(iter(held))]
