"""Each session's audio high-water mark, on its item in the sessions table, and each shard's read position.

A worker claims chunks before it transcribes them: it moves ``audioSequence`` from
the value it last saw to the last chunk it is about to send, in one conditional
write. Two workers can therefore never transcribe the same chunk: the one whose claim
fails has been overtaken and lets the session go. ``audioOffset`` (seconds of audio
before the next chunk) keeps segment times continuous across workers, ``audioHeard`` the seconds of it that
carried audio (what is streamed to the recogniser: ``sessionStatus`` prices it before the cost meter adds it), and
``audioRecord`` (the Kinesis sequence number of the last chunk claimed) tells a
redelivered record from a chunk the speaker sent twice.

The shard's read position (:class:`ShardPositionRepository`) is where the worker's own reader
got to, across all of the shard's sessions: the next invocation reads on from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broadcast_shared.repositories import if_condition_holds
from broadcast_shared.repositories.records import dynamo_number


@dataclass(frozen=True)
class Checkpoint:
    #: the last audio sequence claimed; -1 when none has been
    sequence: int = -1
    offset: float = 0.0
    record: str = ""
    #: of ``offset``, the seconds that carried audio (a chunk accepted while the broadcast was paused carries none):
    #: what the worker streams to the recogniser, which status and report price before the cost meter has added it
    heard: float = 0.0

    def read_before(self, record: str) -> bool:
        """Whether a Kinesis record (same shard) was already read by an earlier worker."""
        return at_or_before(record, self.record)


def at_or_before(sequence_number: str, position: str) -> bool:
    """Whether a Kinesis record is at or before ``position`` (a sequence number of the same shard; empty: none)."""
    return bool(position) and int(sequence_number) <= int(position)


class CheckpointRepository:
    def __init__(self, sessions_table: Any) -> None:
        self._table = sessions_table

    def get(self, session_id: str) -> Checkpoint:
        item = self._table.get_item(
            Key={"sessionId": session_id},
            ProjectionExpression="audioSequence, audioOffset, audioRecord, audioHeard",
            ConsistentRead=True,
        ).get("Item")
        if not item or "audioSequence" not in item:
            return Checkpoint()
        return Checkpoint(
            int(item["audioSequence"]),
            float(item.get("audioOffset", 0)),
            item.get("audioRecord", ""),
            float(item.get("audioHeard", 0)),
        )

    def claim(self, session_id: str, previous: Checkpoint, claimed: Checkpoint) -> bool:
        """Move the checkpoint from ``previous`` to ``claimed``; False when someone else moved it."""
        condition = "attribute_exists(sessionId) AND "
        values: dict[str, Any] = {
            ":sequence": claimed.sequence,
            ":offset": dynamo_number(claimed.offset),
            ":record": claimed.record,
            ":heard": dynamo_number(claimed.heard),
        }
        if previous.sequence < 0:
            condition += "attribute_not_exists(audioSequence)"
        else:
            condition += "audioSequence = :previous"
            values[":previous"] = previous.sequence
        return (
            if_condition_holds(
                self._table.update_item,
                Key={"sessionId": session_id},
                UpdateExpression="SET audioSequence = :sequence, audioOffset = :offset, audioRecord = :record, "
                "audioHeard = :heard",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
            is not None
        )


class ShardPositionRepository:
    """Each shard's read position: the last record a worker's own reader consumed, every chunk of it up to there
    claimed (or declared a gap) in its session's checkpoint. One item per shard in the shard positions table.

    The event source mapping's checkpoint only moves by the batch it delivers, while an invocation reads the
    shard itself far beyond it; the next invocation starts its reader after this position instead of paging
    through what was read already (docs/ARCHITECTURE.md, "Talks longer than an invocation"). Items expire with
    the stream's retention, after which their sequence numbers are gone from the shard anyway.
    """

    def __init__(self, table: Any, retention_seconds: int = 24 * 3600) -> None:
        self._table = table
        self._retention_seconds = retention_seconds

    @staticmethod
    def key(stream_arn: str, shard_id: str) -> str:
        return f"{stream_arn}/{shard_id}"

    def get(self, stream_arn: str, shard_id: str) -> str:
        """The shard's position (a sequence number); empty when no reader has recorded one."""
        item = self._table.get_item(Key={"shardKey": self.key(stream_arn, shard_id)}, ConsistentRead=True).get("Item")
        return str(item["position"]) if item else ""

    def advance(self, stream_arn: str, shard_id: str, previous: str, position: str, now: float) -> bool:
        """Move the position from ``previous`` (empty: none yet) to ``position``; False when another invocation
        moved it meanwhile (this one has been overtaken: what it read is claimed, its position is not kept)."""
        values: dict[str, Any] = {":position": position, ":expires": int(now) + self._retention_seconds}
        if previous:
            condition = "#position = :previous"
            values[":previous"] = previous
        else:
            condition = "attribute_not_exists(shardKey)"
        return (
            if_condition_holds(
                self._table.update_item,
                Key={"shardKey": self.key(stream_arn, shard_id)},
                UpdateExpression="SET #position = :position, expiresAt = :expires",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#position": "position"},
                ExpressionAttributeValues=values,
            )
            is not None
        )
