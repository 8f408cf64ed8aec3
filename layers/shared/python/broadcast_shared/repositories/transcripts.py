"""The transcripts table: every final of a session, per language, kept for the transcript retention.

One item per (session, language, segment). The partition key ``sessionLanguage`` is
``<sessionId>#<language>``; the sort key ``position`` is the segment's start in the session's
audio in whole milliseconds, zero-padded, then ``#<segmentId>``, so a Query returns a language's
finals in the speaker's order. The translation pipeline writes (a conditional put: a retried or
duplicated invoke writes nothing twice); session management's ``getTranscript`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key

from broadcast_shared.repositories import if_condition_holds
from broadcast_shared.repositories.records import dynamo_number

#: digits of the millisecond part of ``position``: 10^12 ms is over 31 years of audio
POSITION_DIGITS = 12


@dataclass(frozen=True)
class TranscriptEntry:
    segment_id: str
    text: str
    start_time: float
    end_time: float | None
    translated: bool

    @property
    def position(self) -> str:
        return position_of(self.start_time, self.segment_id)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> TranscriptEntry:
        return cls(
            segment_id=item["segmentId"],
            text=item["text"],
            start_time=float(item["startTime"]),
            end_time=float(item["endTime"]) if "endTime" in item else None,
            translated=bool(item.get("translated", True)),
        )


def position_of(start_time: float, segment_id: str) -> str:
    """The sort key of a segment: its start in milliseconds, zero-padded, then its id."""
    return f"{max(0, round(start_time * 1000)):0{POSITION_DIGITS}d}#{segment_id}"


class TranscriptsRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def record(self, session_id: str, language: str, entry: TranscriptEntry, now: float, expires_at: int) -> bool:
        """Keep a final until ``expires_at`` (DynamoDB TTL); False (and nothing written) when that segment was
        kept already."""
        item: dict[str, Any] = {
            "sessionLanguage": session_partition(session_id, language),
            "position": entry.position,
            "sessionId": session_id,
            "language": language,
            "segmentId": entry.segment_id,
            "text": entry.text,
            "startTime": dynamo_number(entry.start_time),
            "translated": entry.translated,
            "recordedAt": dynamo_number(now),
            "expiresAt": expires_at,
        }
        if entry.end_time is not None:
            item["endTime"] = dynamo_number(entry.end_time)
        written = if_condition_holds(
            self._table.put_item,
            Item=item,
            ConditionExpression="attribute_not_exists(#p)",
            ExpressionAttributeNames={"#p": "position"},
        )
        return written is not None

    def page(self, session_id: str, language: str, after: str | None, limit: int) -> tuple[list[TranscriptEntry], bool]:
        """Up to ``limit`` finals of a language in order, after the position ``after``; and whether more follow."""
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("sessionLanguage").eq(session_partition(session_id, language)),
            "Limit": limit,
            "ConsistentRead": True,
        }
        if after is not None:
            query["ExclusiveStartKey"] = {"sessionLanguage": session_partition(session_id, language), "position": after}
        response = self._table.query(**query)
        entries = [TranscriptEntry.from_item(item) for item in response.get("Items", [])]
        return entries, "LastEvaluatedKey" in response


def session_partition(session_id: str, part: str) -> str:
    """The table's partition key for a session's ``part``: a language's finals, or its audience samples and report
    (:mod:`broadcast_shared.repositories.reports`)."""
    return f"{session_id}#{part}"
