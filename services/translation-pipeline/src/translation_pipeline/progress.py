"""Captions never go backwards: each segment's progress per language, kept beside the translation cache.

The worker sends a language's segments in order, but a retried invoke may deliver one
twice. One conditional write per segment and language, made just before that
language's fan-out (after its translation and speech, so a failure before it leaves
the segment unclaimed and a retry delivers it), decides: a partial goes out only if
the segment has no final and nothing as long was sent; a final goes out once,
replacing its partials. Items expire through TTL after a day.
"""

from __future__ import annotations

from typing import Any

from broadcast_shared.clock import Clock
from broadcast_shared.repositories import if_condition_holds

TTL_SECONDS = 86400


class SegmentProgress:
    def __init__(self, table: Any, clock: Clock) -> None:
        self._table = table
        self._clock = clock

    def advance(self, session_id: str, segment_id: str, language: str, text_length: int, is_final: bool) -> bool:
        """Record the segment's newest state; False when it would take a listener backwards."""
        if is_final:
            condition = "attribute_not_exists(cacheKey) OR isFinal = :false"
        else:
            condition = "attribute_not_exists(cacheKey) OR (isFinal = :false AND textLength < :length)"
        return (
            if_condition_holds(
                self._table.update_item,
                Key={"cacheKey": f"segment#{session_id}#{segment_id}#{language}"},
                UpdateExpression="SET isFinal = :final, textLength = :length, expiresAt = :expires",
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    ":final": is_final,
                    ":false": False,
                    ":length": text_length,
                    ":expires": int(self._clock.now()) + TTL_SECONDS,
                },
            )
            is not None
        )
