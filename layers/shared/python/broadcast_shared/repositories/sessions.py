"""The sessions table, and the transactions that keep it in step with connections.

A session item carries its listener count, per-language counts and per-language counts of
listeners showing captions (``captionCounts``: the worker sends partials only to a language
with one); every join, leave and language change moves a connection and those counters in one
DynamoDB transaction, so the counts never disagree with the connections and a status request
reads one item whatever the audience size.

A session created before ``captionCounts`` existed has no such map: its transactions run
without it (DynamoDB refuses a path into a missing map), and the worker treats every listened
language of it as showing captions, as it did before.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from broadcast_shared.observability import metrics
from broadcast_shared.pricing import SessionUsage
from broadcast_shared.repositories import every_item, if_condition_holds
from broadcast_shared.repositories.records import Role, Session, SessionState, dynamo_number

#: attempts of a transaction cancelled by a conflict or throttling (as botocore's standard mode: 3 retries)
TRANSACTION_ATTEMPTS = 4
#: the first backoff's ceiling; full jitter, doubling per attempt (0.05 s, 0.1 s, 0.2 s)
TRANSACTION_BACKOFF_SECONDS = 0.025
_RETRIED_CANCELLATIONS = frozenset({"TransactionConflict", "ThrottlingError"})
#: the sessions-table item counting the deployment's active sessions (no session id has its form): every create
#: moves it up under the capacity in the create's transaction, every end down in the end's (docs/CAPACITY.md)
ACTIVE_TALKS_KEY = "#active-talks"


class SessionIdTaken(Exception):
    """The generated session id exists already; pick another."""


class CapacityReached(Exception):
    """The deployment carries as many active sessions as its capacity allows."""


class MembershipConflict(Exception):
    """A transaction's condition failed; ``reason`` says which one."""

    def __init__(self, reason: MembershipFailure) -> None:
        super().__init__(reason.value)
        self.reason = reason


class MembershipFailure(StrEnum):
    CONNECTION_CHANGED = "connectionChanged"
    SESSION_NOT_ACTIVE = "sessionNotActive"
    SESSION_FULL = "sessionFull"


class SessionsRepository:
    def __init__(self, sessions_table: Any, connections_table_name: str, record_ttl_seconds: int) -> None:
        self._table = sessions_table
        self._client = sessions_table.meta.client
        self._connections = connections_table_name
        self._ttl = record_ttl_seconds

    def get(self, session_id: str) -> Session | None:
        item = self._table.get_item(Key={"sessionId": session_id}, ConsistentRead=True).get("Item")
        return Session.from_item(item) if item else None

    def add_usage(self, session_id: str, usage: SessionUsage) -> None:
        """Add a batch of the session's usage (one ``ADD``; a session that is gone gets nothing written)."""
        attributes = usage.as_attributes()
        if not attributes:
            return
        names = {f"#u{i}": name for i, name in enumerate(attributes)}
        values = {f":u{i}": dynamo_number(value) for i, value in enumerate(attributes.values())}
        if_condition_holds(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression="ADD " + ", ".join(f"#u{i} :u{i}" for i in range(len(attributes))),
            ConditionExpression=Attr("sessionId").exists(),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def create(
        self,
        session_id: str,
        speaker_connection_id: str,
        previous_session_id: str | None,
        source_language: str,
        quality_tier: str,
        now: float,
        terminology: str | None = None,
        speaker_user_id: str | None = None,
        max_active_talks: int | None = None,
        *,
        title: str | None = None,
        presenter: str | None = None,
        passcode_hash: str | None = None,
    ) -> Session:
        """Create a session, attach the speaker's connection to it and count it active, atomically.

        ``previous_session_id`` is the (ended) session the connection pointed at, if
        any; the write fails with :class:`MembershipConflict` when the connection
        has moved meanwhile, and with :class:`CapacityReached` when ``max_active_talks``
        sessions are active already (None: no limit, still counted).
        """
        item = {
            "sessionId": session_id,
            "speakerConnectionId": speaker_connection_id,
            "sourceLanguage": source_language,
            "qualityTier": quality_tier,
            "state": SessionState.ACTIVE.value,
            "createdAt": dynamo_number(now),
            "isPaused": False,
            "isMuted": False,
            "volume": dynamo_number(1.0),
            "listenerCount": 0,
            "languageCounts": {},
            "captionCounts": {},
            "reportedListenerCount": 0,
            "reportedLanguages": [],
            # a backstop: pushed forward whenever the speaker is reached (record_reported)
            "expiresAt": int(now) + self._ttl,
            **({"terminology": terminology} if terminology else {}),
            **({"speakerUserId": speaker_user_id} if speaker_user_id else {}),
            **({"title": title} if title else {}),
            **({"presenter": presenter} if presenter else {}),
            **({"passcodeHash": passcode_hash} if passcode_hash else {}),
        }
        failed = self._transact(
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(sessionId)",
                }
            },
            self._attach(speaker_connection_id, Role.SPEAKER, previous_session_id, {"sessionId": session_id}),
            self._count_talk(max_active_talks),
        )
        if failed and failed[0]:
            raise SessionIdTaken(session_id)
        if failed and failed[1]:
            raise MembershipConflict(MembershipFailure.CONNECTION_CHANGED)
        if failed:
            raise CapacityReached()
        return Session.from_item(item)

    def active_talks(self) -> int:
        """The active-sessions counter as it stands (0 before the first session)."""
        item = self._table.get_item(Key={"sessionId": ACTIVE_TALKS_KEY}, ConsistentRead=True).get("Item")
        return int(item.get("activeTalks", 0)) if item else 0

    def correct_active_talks(self, seen: int, count: int) -> bool:
        """Set the active-sessions counter to a recount; False when it moved since it read ``seen``."""
        return (
            if_condition_holds(
                self._table.update_item,
                Key={"sessionId": ACTIVE_TALKS_KEY},
                UpdateExpression="SET activeTalks = :count",
                ConditionExpression="attribute_not_exists(activeTalks) OR activeTalks = :seen",
                ExpressionAttributeValues={":count": count, ":seen": seen},
            )
            is not None
        )

    def _count_talk(self, max_active_talks: int | None) -> dict[str, Any]:
        """The transaction item that counts one more active session, below ``max_active_talks`` when given."""
        update: dict[str, Any] = {
            "TableName": self._table.name,
            "Key": {"sessionId": ACTIVE_TALKS_KEY},
            "UpdateExpression": "SET activeTalks = if_not_exists(activeTalks, :zero) + :one",
            "ExpressionAttributeValues": {":zero": 0, ":one": 1},
        }
        if max_active_talks is not None:
            update["ConditionExpression"] = "attribute_not_exists(activeTalks) OR activeTalks < :max"
            update["ExpressionAttributeValues"][":max"] = max_active_talks
        return {"Update": update}

    def join(
        self,
        session_id: str,
        connection_id: str,
        previous_session_id: str | None,
        target_language: str,
        max_listeners: int,
        now: float,
        captions: bool = True,
    ) -> None:
        counts = "SET listenerCount = listenerCount + :one, "
        counts += "languageCounts.#lang = if_not_exists(languageCounts.#lang, :zero) + :one"
        failed = self._transact_counting_captions(
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": {"sessionId": session_id},
                    "UpdateExpression": counts,
                    "ConditionExpression": "#state = :active AND listenerCount < :max",
                    "ExpressionAttributeNames": {"#state": "state", "#lang": target_language},
                    "ExpressionAttributeValues": {
                        ":one": 1,
                        ":zero": 0,
                        ":active": SessionState.ACTIVE.value,
                        ":max": max_listeners,
                    },
                }
            },
            ", captionCounts.#lang = if_not_exists(captionCounts.#lang, :zero) + :one" if captions else "",
            self._attach(
                connection_id,
                Role.LISTENER,
                previous_session_id,
                {
                    "sessionId": session_id,
                    "targetLanguage": target_language,
                    "captions": captions,
                    "lastSeenAt": dynamo_number(now),
                },
            ),
        )
        if failed and failed[0]:
            session = self.get(session_id)
            if session is not None and session.is_active:
                raise MembershipConflict(MembershipFailure.SESSION_FULL)
            raise MembershipConflict(MembershipFailure.SESSION_NOT_ACTIVE)
        if failed:
            raise MembershipConflict(MembershipFailure.CONNECTION_CHANGED)

    def change_language(self, session_id: str, connection_id: str, old: str, new: str, captions: bool = True) -> None:
        failed = self._transact_counting_captions(
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": {"sessionId": session_id},
                    "UpdateExpression": "SET languageCounts.#old = languageCounts.#old - :one, "
                    "languageCounts.#new = if_not_exists(languageCounts.#new, :zero) + :one",
                    "ConditionExpression": "#state = :active",
                    "ExpressionAttributeNames": {"#state": "state", "#old": old, "#new": new},
                    "ExpressionAttributeValues": {":one": 1, ":zero": 0, ":active": SessionState.ACTIVE.value},
                }
            },
            ", captionCounts.#old = if_not_exists(captionCounts.#old, :one) - :one, "
            "captionCounts.#new = if_not_exists(captionCounts.#new, :zero) + :one"
            if captions
            else "",
            {
                "Update": {
                    "TableName": self._connections,
                    "Key": {"connectionId": connection_id},
                    "UpdateExpression": "SET targetLanguage = :new",
                    "ConditionExpression": "sessionId = :sid AND targetLanguage = :old",
                    "ExpressionAttributeValues": {":sid": session_id, ":old": old, ":new": new},
                }
            },
        )
        if failed and failed[0]:
            raise MembershipConflict(MembershipFailure.SESSION_NOT_ACTIVE)
        if failed:
            raise MembershipConflict(MembershipFailure.CONNECTION_CHANGED)

    def remove_listener(self, session_id: str, connection_id: str, target_language: str, captions: bool = True) -> bool:
        """Delete a listener's connection and take it off the session's counts (its language's caption count
        too when it showed captions).

        Returns False when the connection was no longer a listener of that session
        (already removed by another path), in which case nothing changes.
        """
        failed = self._transact_counting_captions(
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": {"sessionId": session_id},
                    "UpdateExpression": "SET listenerCount = listenerCount - :one, "
                    "languageCounts.#lang = languageCounts.#lang - :one",
                    "ConditionExpression": "attribute_exists(sessionId)",
                    "ExpressionAttributeNames": {"#lang": target_language},
                    "ExpressionAttributeValues": {":one": 1},
                }
            },
            ", captionCounts.#lang = if_not_exists(captionCounts.#lang, :one) - :one" if captions else "",
            {
                "Delete": {
                    "TableName": self._connections,
                    "Key": {"connectionId": connection_id},
                    "ConditionExpression": "sessionId = :sid AND targetLanguage = :lang",
                    "ExpressionAttributeValues": {":sid": session_id, ":lang": target_language},
                }
            },
        )
        return not failed

    def update_broadcast(self, session_id: str, **changes: bool | float) -> Session:
        """Set ``is_paused``/``is_muted``/``volume``/``questions_closed``/``captions_delayed`` on an active session;
        returns the new session.

        Every change moves ``controlVersion`` on, so a broadcast can tell whether it carries the latest state
        (:meth:`claim_control_broadcast`)."""
        names = {
            "is_paused": "isPaused",
            "is_muted": "isMuted",
            "volume": "volume",
            "questions_closed": "questionsClosed",
            "captions_delayed": "captionsDelayed",
        }
        assignments = [f"#{names[key]} = :{names[key]}" for key in changes]
        values: dict[str, Any] = {
            f":{names[key]}": dynamo_number(value) if isinstance(value, float) else value
            for key, value in changes.items()
        }
        values[":active"] = SessionState.ACTIVE.value
        values[":one"] = 1
        result = if_condition_holds(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression="SET " + ", ".join(assignments) + " ADD controlVersion :one",
            ConditionExpression="#state = :active",
            ExpressionAttributeNames={"#state": "state", **{f"#{names[k]}": names[k] for k in changes}},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        if result is None:
            raise MembershipConflict(MembershipFailure.SESSION_NOT_ACTIVE)
        return Session.from_item(result["Attributes"])

    def claim_control_broadcast(self, session_id: str, now: float, window_start: float | None) -> Session | None:
        """Record that the session's current broadcast state goes out now; the session as claimed, or None.

        Holds only while the session is active, has a change no broadcast carried yet (``controlSentVersion``
        below ``controlVersion``) and, unless ``window_start`` is None, sent its last broadcast no later than
        ``window_start``: so broadcasts of one session are at least a window apart whoever sends them, and the
        state returned is exactly the version recorded as sent."""
        condition = (
            "#state = :active AND (attribute_not_exists(controlSentVersion) OR controlSentVersion < controlVersion)"
        )
        values: dict[str, Any] = {":active": SessionState.ACTIVE.value, ":now": dynamo_number(now)}
        if window_start is not None:
            condition += " AND (attribute_not_exists(controlSentAt) OR controlSentAt <= :windowStart)"
            values[":windowStart"] = dynamo_number(window_start)
        result = if_condition_holds(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression="SET controlSentAt = :now, controlSentVersion = controlVersion",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return Session.from_item(result["Attributes"]) if result is not None else None

    def schedule_control_follow_up(self, session_id: str, due: float, stale_before: float) -> bool:
        """Mark a trailing broadcast as due at ``due``; False when one is pending already (due after
        ``stale_before``), nothing is left unsent, or the session is not active."""
        return (
            if_condition_holds(
                self._table.update_item,
                Key={"sessionId": session_id},
                UpdateExpression="SET controlFollowUpAt = :due",
                ConditionExpression="#state = :active AND controlSentVersion < controlVersion "
                "AND (attribute_not_exists(controlFollowUpAt) OR controlFollowUpAt < :stale)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":due": dynamo_number(due),
                    ":stale": dynamo_number(stale_before),
                    ":active": SessionState.ACTIVE.value,
                },
            )
            is not None
        )

    def clear_control_follow_up(self, session_id: str) -> None:
        """Forget the pending trailing broadcast (its follow-up is running), so the next change schedules anew."""
        if_condition_holds(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression="REMOVE controlFollowUpAt",
            ConditionExpression=Attr("sessionId").exists(),
        )

    def end(self, session_id: str, now: float, reason: str = "speakerEnded") -> Session | None:
        """Mark an active session ended and count it off the active sessions, atomically; None when it was not
        active (already ended or gone).

        The session is not yet ``endAnnounced``: :meth:`mark_end_announced` records that
        every listener was told, and the sweep announces again until then. The counter
        is taken down unconditionally (a condition on it would fail the end): when it is off
        (a session active before the counter existed, or one TTL removed while active),
        ``reconcile_counts`` recounts it.
        """
        failed = self._transact(
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": {"sessionId": session_id},
                    "UpdateExpression": "SET #state = :ended, endedAt = :now, expiresAt = :exp, endReason = :reason",
                    "ConditionExpression": "#state = :active",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": {
                        ":ended": SessionState.ENDED.value,
                        ":active": SessionState.ACTIVE.value,
                        ":now": dynamo_number(now),
                        ":exp": int(now) + self._ttl,
                        ":reason": reason,
                    },
                }
            },
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": {"sessionId": ACTIVE_TALKS_KEY},
                    "UpdateExpression": "SET activeTalks = if_not_exists(activeTalks, :one) - :one",
                    "ExpressionAttributeValues": {":one": 1},
                }
            },
        )
        if failed:
            return None
        return self.get(session_id)

    def mark_speaker_away(self, session_id: str, speaker_connection_id: str, now: float) -> Session | None:
        """Note that an active session's speaker connection went away; None when the session is not
        active, has another speaker connection now (resumed elsewhere), or was already marked."""
        result = if_condition_holds(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression="SET speakerAwaySince = :awaySince",
            ConditionExpression="#state = :active AND speakerConnectionId = :speaker "
            "AND attribute_not_exists(speakerAwaySince)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":awaySince": dynamo_number(now),
                ":active": SessionState.ACTIVE.value,
                ":speaker": speaker_connection_id,
            },
            ReturnValues="ALL_NEW",
        )
        if result is None:
            return None
        return Session.from_item(result["Attributes"])

    def resume(self, session: Session, connection_id: str, previous_session_id: str | None) -> None:
        """Move an active session to its speaker's new connection, atomically with attaching it.

        Holds only while the session is active and still has the speaker connection it was
        read with; :class:`MembershipConflict` otherwise.
        """
        failed = self._transact(
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": {"sessionId": session.session_id},
                    "UpdateExpression": "SET speakerConnectionId = :new REMOVE speakerAwaySince",
                    "ConditionExpression": "#state = :active AND speakerConnectionId = :seen",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": {
                        ":new": connection_id,
                        ":seen": session.speaker_connection_id,
                        ":active": SessionState.ACTIVE.value,
                    },
                }
            },
            self._attach(connection_id, Role.SPEAKER, previous_session_id, {"sessionId": session.session_id}),
        )
        if failed and failed[0]:
            raise MembershipConflict(MembershipFailure.SESSION_NOT_ACTIVE)
        if failed:
            raise MembershipConflict(MembershipFailure.CONNECTION_CHANGED)

    def mark_end_announced(self, session_id: str) -> None:
        """Record that every listener of an ended session has been told (the sweep stops announcing it)."""
        if_condition_holds(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression="SET endAnnounced = :t",
            ConditionExpression=Attr("sessionId").exists(),
            ExpressionAttributeValues={":t": True},
        )

    def correct_counts(
        self,
        session: Session,
        listener_count: int,
        language_counts: dict[str, int],
        caption_counts: dict[str, int],
    ) -> bool:
        """Set an active session's counts to a recount; False when they moved since ``session`` was read.

        A session without ``captionCounts`` (created before it existed) gets the map here."""
        seen_captions = (
            "attribute_not_exists(captionCounts)" if session.caption_counts is None else "captionCounts = :seenCaptions"
        )
        values: dict[str, Any] = {
            ":count": listener_count,
            ":langs": language_counts,
            ":captions": caption_counts,
            ":seen": session.listener_count,
            ":seenLangs": session.language_counts,
            ":active": SessionState.ACTIVE.value,
        }
        if session.caption_counts is not None:
            values[":seenCaptions"] = session.caption_counts
        return (
            if_condition_holds(
                self._table.update_item,
                Key={"sessionId": session.session_id},
                UpdateExpression="SET listenerCount = :count, languageCounts = :langs, captionCounts = :captions",
                ConditionExpression="#state = :active AND listenerCount = :seen AND languageCounts = :seenLangs "
                f"AND {seen_captions}",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=values,
            )
            is not None
        )

    def record_reported(
        self, session_id: str, previous_count: int, count: int, languages: frozenset[str], now: float
    ) -> bool:
        """Remember what the speaker was last told, and push the session's expiry forward.

        False when another writer got there first. An active session expires through TTL
        ``record_ttl_seconds`` after its speaker was last reached: a backstop should every
        other way of ending it fail.
        """
        return (
            if_condition_holds(
                self._table.update_item,
                Key={"sessionId": session_id},
                UpdateExpression="SET reportedListenerCount = :count, reportedLanguages = :langs, expiresAt = :exp",
                ConditionExpression="reportedListenerCount = :previous",
                ExpressionAttributeValues={
                    ":count": count,
                    ":langs": sorted(languages),
                    ":previous": previous_count,
                    ":exp": int(now) + self._ttl,
                },
            )
            is not None
        )

    def active(self, consistent: bool = False) -> Iterator[Session]:
        """Active sessions (a filtered Scan; ended sessions expire through TTL); ``consistent``: a strongly
        consistent Scan, which sees every write that succeeded before it started."""
        return self._scan(Attr("state").eq(SessionState.ACTIVE.value), consistent)

    def needing_attention(self) -> Iterator[Session]:
        """Active sessions, and ended ones whose end has not reached every listener yet."""
        return self._scan(
            Attr("state").eq(SessionState.ACTIVE.value)
            | (
                Attr("state").eq(SessionState.ENDED.value)
                # endReason: ended by this code, which records the announcement (not older sessions)
                & Attr("endReason").exists()
                & Attr("endAnnounced").not_exists()
            )
        )

    def _scan(self, condition: Any, consistent: bool = False) -> Iterator[Session]:
        for item in every_item(self._table.scan, FilterExpression=condition, ConsistentRead=consistent):
            yield Session.from_item(item)

    def _transact_counting_captions(
        self, session_update: dict[str, Any], caption_counts: str, *items: dict[str, Any]
    ) -> list[bool]:
        """:meth:`_transact` with ``caption_counts`` (``", captionCounts.#x = ..."``) appended to the session item's
        ``SET``; run again without it when the item has no ``captionCounts`` map (a session created before it
        existed: DynamoDB refuses a path into a missing map)."""
        if not caption_counts:
            return self._transact(session_update, *items)
        update = session_update["Update"]
        counted = {"Update": {**update, "UpdateExpression": update["UpdateExpression"] + caption_counts}}
        try:
            return self._transact(counted, *items)
        except ClientError as exc:
            if not _invalid_document_path(exc):
                raise
        metrics.add_metric(name="SessionsWithoutCaptionCounts", unit=MetricUnit.Count, value=1)
        return self._transact(session_update, *items)

    def _transact(self, *items: dict[str, Any]) -> list[bool]:
        """Run one transaction: [] when it committed, else which items' conditions failed.

        A transaction cancelled only because another request held one of its items
        (``TransactionConflict``) or was throttled is run again, with full-jitter
        backoff, up to ``TRANSACTION_ATTEMPTS`` in all; botocore's retry modes do not
        retry these cancellations. When it still conflicts the ``ClientError`` is raised:
        a conflict is never taken for a failed condition.
        """
        attempt = 1
        while True:
            try:
                self._client.transact_write_items(TransactItems=list(items))
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                codes = [reason.get("Code") for reason in exc.response.get("CancellationReasons") or []]
                if "ConditionalCheckFailed" in codes:
                    return [code == "ConditionalCheckFailed" for code in codes]
                if attempt == TRANSACTION_ATTEMPTS or not _RETRIED_CANCELLATIONS.intersection(codes):
                    raise
                metrics.add_metric(name="TransactionConflictsRetried", unit=MetricUnit.Count, value=1)
                time.sleep(random.uniform(0, TRANSACTION_BACKOFF_SECONDS * 2**attempt))
                attempt += 1
            else:
                return []

    def _attach(
        self, connection_id: str, role: Role, previous_session_id: str | None, attributes: dict[str, Any]
    ) -> dict[str, Any]:
        """The transaction item that points a connection of ``role`` at a session.

        It holds only while the connection still points where it did when read: at no
        session, or at ``previous_session_id`` (an ended one).
        """
        values: dict[str, Any] = {f":{name}": value for name, value in attributes.items()}
        values[":role"] = role.value
        if previous_session_id is None:
            where = "attribute_not_exists(sessionId)"
        else:
            where = "sessionId = :previous"
            values[":previous"] = previous_session_id
        return {
            "Update": {
                "TableName": self._connections,
                "Key": {"connectionId": connection_id},
                "UpdateExpression": "SET " + ", ".join(f"{name} = :{name}" for name in attributes),
                "ConditionExpression": f"#role = :role AND ({where})",
                "ExpressionAttributeNames": {"#role": "role"},
                "ExpressionAttributeValues": values,
            }
        }


def _invalid_document_path(exc: ClientError) -> bool:
    """Whether DynamoDB refused an update for a path into a missing map (a ``ValidationException``, or a
    transaction cancelled with a ``ValidationError``)."""
    error = exc.response.get("Error", {})
    if error.get("Code") == "ValidationException":
        return "document path" in error.get("Message", "")
    reasons = exc.response.get("CancellationReasons") or []
    return any(r.get("Code") == "ValidationError" and "document path" in r.get("Message", "") for r in reasons)
