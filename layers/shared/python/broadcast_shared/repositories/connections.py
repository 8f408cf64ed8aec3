"""The connections table: one item per WebSocket connection.

Listeners joined to a session carry ``sessionId`` and ``targetLanguage`` and so appear in
the ``sessionId``/``targetLanguage`` GSI; speakers carry only ``sessionId`` and do not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.conditions import Attr, Key

from broadcast_shared.clock import Clock
from broadcast_shared.observability import logger, metrics
from broadcast_shared.repositories import every_item, if_condition_holds, remember
from broadcast_shared.repositories.records import Connection, Role, dynamo_number


class ConnectionsRepository:
    def __init__(self, table: Any, by_session_index: str, record_ttl_seconds: int) -> None:
        self._table = table
        self._index = by_session_index
        self._ttl = record_ttl_seconds

    def add(self, connection_id: str, role: Role, now: float, user_id: str | None = None) -> Connection:
        item: dict[str, Any] = {
            "connectionId": connection_id,
            "role": role.value,
            "connectedAt": dynamo_number(now),
            "lastSeenAt": dynamo_number(now),
            "expiresAt": int(now) + self._ttl,
        }
        if user_id:
            item["userId"] = user_id
        self._table.put_item(Item=item)
        return Connection.from_item(item)

    def get(self, connection_id: str) -> Connection | None:
        item = self._table.get_item(Key={"connectionId": connection_id}, ConsistentRead=True).get("Item")
        return Connection.from_item(item) if item else None

    def touch(self, connection_id: str, now: float) -> None:
        """Record activity; a connection deleted meanwhile is left deleted."""
        if_condition_holds(
            self._table.update_item,
            Key={"connectionId": connection_id},
            UpdateExpression="SET lastSeenAt = :now, expiresAt = :exp",
            ConditionExpression=Attr("connectionId").exists(),
            ExpressionAttributeValues={":now": dynamo_number(now), ":exp": int(now) + self._ttl},
        )

    def forget(self, connection_id: str) -> bool:
        """Whether a row of the connection was remembered (:class:`RememberingConnections`), now forgotten: here,
        where every ``get`` reads the table, never."""
        return False

    def mark_refresh_warned(self, connection_id: str) -> bool:
        """Remember the 2-hour warning; False (and nothing written) when the connection is gone."""
        return (
            if_condition_holds(
                self._table.update_item,
                Key={"connectionId": connection_id},
                UpdateExpression="SET refreshWarned = :t",
                ConditionExpression=Attr("connectionId").exists(),
                ExpressionAttributeValues={":t": True},
            )
            is not None
        )

    def delete(self, connection_id: str) -> Connection | None:
        """Delete and return what was stored, or None when it was already gone."""
        old = self._table.delete_item(Key={"connectionId": connection_id}, ReturnValues="ALL_OLD").get("Attributes")
        return Connection.from_item(old) if old else None

    def _remove_malformed(self, item: dict[str, Any]) -> None:
        logger.warning("malformed connection row removed", extra={"item": sorted(item)})
        metrics.add_metric(name="MalformedConnectionsRemoved", unit=MetricUnit.Count, value=1)
        if_condition_holds(
            self._table.delete_item,
            Key={"connectionId": item["connectionId"]},
            ConditionExpression=Attr("role").not_exists() | Attr("connectedAt").not_exists(),
        )

    def listeners(self, session_id: str, target_language: str | None = None) -> list[Connection]:
        """Listeners joined to a session (optionally one language), from the GSI."""
        condition = Key("sessionId").eq(session_id)
        if target_language is not None:
            condition = condition & Key("targetLanguage").eq(target_language)
        return [Connection.from_item(item) for item in self._query(condition)]

    def _query(self, condition: Any) -> Iterator[dict[str, Any]]:
        return every_item(self._table.query, IndexName=self._index, KeyConditionExpression=condition)

    def all(self) -> Iterator[Connection]:
        """Every connection; for the periodic sweep (a Scan, paginated).

        A row that is no connection (no role: what an unconditional write on a deleted
        connection once left behind) is logged, counted and removed, never yielded.
        """
        for item in every_item(self._table.scan):
            try:
                connection = Connection.from_item(item)
            except (KeyError, ValueError, TypeError):
                self._remove_malformed(item)
                continue
            yield connection


class RememberingConnections(ConnectionsRepository):
    """The connections table, each row read once in ``seconds`` by this execution environment.

    For ``sendAudio``: a speaker's row changes only when its connection creates another session (a role never
    changes), so it is read once every few seconds instead of at each of a speaker's five chunks a second. A
    handler that finds the remembered row's session over answers ``SESSION_ENDED`` or ``NOT_IN_SESSION``, and the
    route serves the message again after :meth:`forget` (``broadcast_shared.websocket.STALE_CODES``): a new
    session on the same connection is never refused for the old one.
    """

    def __init__(
        self, table: Any, by_session_index: str, record_ttl_seconds: int, seconds: float, clock: Clock
    ) -> None:
        super().__init__(table, by_session_index, record_ttl_seconds)
        self._seconds = seconds
        self._clock = clock
        self._rows: dict[str, tuple[float, Connection]] = {}
        #: the connection whose last ``get`` was answered from memory, not the table (an environment serves one
        #: message at a time, and :meth:`forget` follows that message's ``get``): one id, not a set that would keep
        #: every connection ever answered from memory
        self._from_memory: str | None = None

    def get(self, connection_id: str) -> Connection | None:
        now = self._clock.now()
        read_at, row = self._rows.get(connection_id, (float("-inf"), None))
        if row is not None and now - read_at < self._seconds:
            self._from_memory = connection_id
            return row
        self._from_memory = None
        row = super().get(connection_id)
        if row is None:
            self._rows.pop(connection_id, None)
        else:
            remember(self._rows, connection_id, (now, row))
        return row

    def touch(self, connection_id: str, now: float) -> None:
        super().touch(connection_id, now)
        if connection_id in self._rows:
            read_at, row = self._rows[connection_id]
            self._rows[connection_id] = (read_at, replace(row, last_seen_at=now))

    def forget(self, connection_id: str) -> bool:
        """Whether the last ``get`` answered from memory (a row read now is not read again); forgotten either way."""
        self._rows.pop(connection_id, None)
        remembered, self._from_memory = self._from_memory == connection_id, None
        return remembered
