"""One session's chunks back in sequence order: duplicates dropped, gaps bridged and counted.

Two ``sendAudio`` invocations may append consecutive chunks in either order (a burst
of chunks at the start of a session lands on several cold-starting environments at
once), so a chunk that arrives early waits for the ones before it: for up to
``max_wait`` seconds, or until ``window`` chunks are held. Then the missing sequences
are declared a gap and the audio goes on; a chunk that turns up after its gap was
declared is reported as late, never silently dropped. The wait is only ever checked
between batches (:meth:`Sequencer.expire`), never while one is pushed, so a missing
chunk that is later in the same batch is never declared a gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class SequenceReport:
    """What one push or flush found, for metrics and logs."""

    duplicates: list[int] = field(default_factory=list)
    late: list[int] = field(default_factory=list)
    #: the sequences declared missing, one range per gap
    gaps: list[range] = field(default_factory=list)

    @property
    def missing_count(self) -> int:
        return sum(len(gap) for gap in self.gaps)


class Sequencer(Generic[T]):
    """Holds items (chunks, with whatever travels with them) by sequence number."""

    def __init__(self, next_expected: int, window: int, max_wait: float) -> None:
        self.next_expected = next_expected
        self._window = window
        self._max_wait = max_wait
        self._waiting_since: float | None = None
        self._pending: dict[int, T] = {}
        self._declared_missing: set[int] = set()

    def push(self, sequence: int, item: T, report: SequenceReport) -> list[T]:
        """The items that are now in order, starting at ``next_expected`` (a held item's wait is counted from the
        next :meth:`expire`)."""
        if sequence < self.next_expected:
            if sequence in self._declared_missing:
                self._declared_missing.discard(sequence)
                report.late.append(sequence)
            else:
                report.duplicates.append(sequence)
            return []
        if sequence in self._pending:
            report.duplicates.append(sequence)
            return []
        if sequence - self.next_expected > self._window:
            released = self.flush(report)
            self._skip_to(sequence, report)
            self._pending[sequence] = item
            return released + self._release()
        self._pending[sequence] = item
        released = self._release()
        if len(self._pending) > self._window:
            released += self._skip_to(min(self._pending), report)
        return released

    def expire(self, now: float, report: SequenceReport) -> list[T]:
        """Give up waiting for a missing chunk once the first one held has waited ``max_wait``."""
        if not self._pending:
            return []
        if self._waiting_since is None:
            self._waiting_since = now
            return []
        if now - self._waiting_since < self._max_wait:
            return []
        released = self._skip_to(min(self._pending), report)
        self._waiting_since = now if self._pending else None
        return released

    def flush(self, report: SequenceReport) -> list[T]:
        """Everything held, in order, declaring whatever is still missing a gap."""
        released: list[T] = []
        while self._pending:
            released += self._skip_to(min(self._pending), report)
        return released

    def _skip_to(self, sequence: int, report: SequenceReport) -> list[T]:
        if sequence > self.next_expected:
            report.gaps.append(range(self.next_expected, sequence))
            self._declared_missing.update(range(max(self.next_expected, sequence - self._window), sequence))
            if len(self._declared_missing) > self._window:
                oldest = sequence - self._window
                self._declared_missing = {s for s in self._declared_missing if s >= oldest}
        self.next_expected = sequence
        return self._release()

    def _release(self) -> list[T]:
        released = []
        while self.next_expected in self._pending:
            released.append(self._pending.pop(self.next_expected))
            self.next_expected += 1
        if not self._pending:
            self._waiting_since = None
        return released
