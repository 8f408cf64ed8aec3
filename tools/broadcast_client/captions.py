"""What a listener shows: each segment once, in the speaker's order (docs/PROTOCOL.md, "Order and duplicates").

The server sends a language's segments in order; after a retry a message may come twice.
``segmentId`` names a segment and ``startTime`` orders segments: a final is shown once;
a final that starts before the newest shown final came late (the server skipped it) and
is dropped; a partial is shown only while its segment has no final and no later final
was shown, and only when it grew.
"""

from __future__ import annotations


class Captions:
    def __init__(self) -> None:
        self._finals: set[str] = set()
        self._newest_final = float("-inf")
        self._partial_lengths: dict[str, int] = {}
        self.dropped = 0

    def accept(self, message: dict) -> bool:
        """True when this ``translation`` message is to be shown (and its speech played)."""
        segment_id = message["segmentId"]
        start = float(message.get("startTime") or 0.0)
        if segment_id in self._finals or start < self._newest_final:
            self.dropped += 1
            return False
        if message.get("isPartial"):
            length = len(message.get("text", ""))
            if length <= self._partial_lengths.get(segment_id, -1):
                self.dropped += 1
                return False
            self._partial_lengths[segment_id] = length
            return True
        self._finals.add(segment_id)
        self._partial_lengths.pop(segment_id, None)
        self._newest_final = start
        return True
