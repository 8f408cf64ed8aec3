"""A session's audience over time and its report, kept beside its transcripts for their retention.

Both live in the transcripts table, under partition keys no language code spells:

- ``<sessionId>#audience``, sort key ``position`` = the minute from the session's start (six digits): the
  audience at its largest in that minute (``listeners``, ``languages``, ``at``). Every write is conditional on
  growing that minute's figure, so a session has at most one item a minute whoever samples it (an audience
  change, the periodic status, the end), and a write that would not raise it changes nothing.
- ``<sessionId>#report``, sort key ``report``: the report sent to the speaker when the session ended, as its JSON
  text (``report``).
"""

from __future__ import annotations

import json
from typing import Any

from boto3.dynamodb.conditions import Key

from broadcast_shared.messages.outbound import AudienceSample
from broadcast_shared.repositories import every_item, if_condition_holds
from broadcast_shared.repositories.records import dynamo_number
from broadcast_shared.repositories.transcripts import session_partition

AUDIENCE = "audience"
REPORT = "report"
MINUTE_DIGITS = 6


class ReportsRepository:
    def __init__(self, transcripts_table: Any) -> None:
        self._table = transcripts_table

    def sample(self, session_id: str, minute: int, at: float, languages: dict[str, int], expires_at: int) -> bool:
        """Record ``languages`` (listeners per language) as the minute's audience if it is the largest yet seen
        in that minute; False (nothing written) when it is not."""
        listeners = sum(languages.values())
        written = if_condition_holds(
            self._table.update_item,
            Key={"sessionLanguage": session_partition(session_id, AUDIENCE), "position": f"{minute:0{MINUTE_DIGITS}d}"},
            UpdateExpression="SET listeners = :n, languages = :langs, #at = :at, sessionId = :sid, expiresAt = :exp",
            ConditionExpression="attribute_not_exists(listeners) OR listeners < :n",
            ExpressionAttributeNames={"#at": "at"},
            ExpressionAttributeValues={
                ":n": listeners,
                ":langs": languages,
                ":at": dynamo_number(at),
                ":sid": session_id,
                ":exp": expires_at,
            },
        )
        return written is not None

    def samples(self, session_id: str) -> list[AudienceSample]:
        """The session's audience samples, minute by minute in order."""
        items = every_item(
            self._table.query,
            KeyConditionExpression=Key("sessionLanguage").eq(session_partition(session_id, AUDIENCE)),
            ConsistentRead=True,
        )
        return [_sample(item) for item in items]

    def keep_report(self, session_id: str, report: dict[str, Any], expires_at: int) -> None:
        self._table.put_item(
            Item={
                "sessionLanguage": session_partition(session_id, REPORT),
                "position": REPORT,
                "sessionId": session_id,
                "report": json.dumps(report, ensure_ascii=False),
                "expiresAt": expires_at,
            }
        )

    def report(self, session_id: str) -> dict[str, Any] | None:
        """The kept report, as sent, or None."""
        item = self._table.get_item(
            Key={"sessionLanguage": session_partition(session_id, REPORT), "position": REPORT}, ConsistentRead=True
        ).get("Item")
        return json.loads(item["report"]) if item else None


def _sample(item: dict[str, Any]) -> AudienceSample:
    return AudienceSample(
        minute=int(item["position"]),
        at=float(item["at"]),
        listeners=int(item["listeners"]),
        languages={language: int(count) for language, count in item.get("languages", {}).items()},
    )
