"""The report after the talk: the audience sampled while it runs, the figures when it ends.

Sampling: the session's audience per language is recorded minute by minute, each minute keeping its largest
audience (``ReportsRepository.sample``), from three places: every join and language change (right after the
change, from the session item the speaker's update reads anyway), the periodic status (every minute, so a minute
in which listeners only left is sampled too) and the end. DynamoDB writes are bounded by one conditional
``UpdateItem`` per join or language change and one per active session a minute, and the items by one a minute.

When the speaker ends the session, :meth:`ReportService.finish` builds the :class:`SessionReport` from the samples
and the session item (duration, audio, usage counts), keeps it beside the transcripts for their retention and
sends it to the speaker. The usage and its estimated cost are the cost meter's counts on the session item, priced
as ``sessionStatus`` prices them (``broadcast_shared.pricing``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from broadcast_shared.messages.outbound import AudienceSample, SessionReport
from broadcast_shared.repositories.records import Session
from session_management.status import language_distribution, usage_so_far

if TYPE_CHECKING:
    from session_management.app import SessionRuntime

SAMPLE_SECONDS = 60
#: the most a report message's JSON may hold (API Gateway: 128 KB a message); longer talks' samples are merged
#: pairwise (each pair keeps its larger audience) until the report fits
REPORT_BYTES = 96 * 1024


class ReportService:
    def __init__(self, runtime: SessionRuntime) -> None:
        self._rt = runtime
        self._reports = runtime.reports

    def sample(self, session: Session) -> bool:
        """Record the session's audience now as its minute's, if it is the minute's largest yet."""
        now = self._rt.clock.now()
        elapsed = max(now - session.created_at, 0.0)
        return self._reports.sample(
            session.session_id,
            int(elapsed // SAMPLE_SECONDS),
            elapsed,
            language_distribution(session.language_counts),
            self._expiry(now),
        )

    def finish(self, ended: Session) -> SessionReport:
        """Sample the audience at the end, build the ended session's report, keep it for the transcripts'
        retention and send it to the speaker connection the session ended with."""
        self.sample(ended)
        report = self.build(ended)
        self._reports.keep_report(ended.session_id, report.to_wire(), self._expiry(report.ended_at))
        self._rt.notifier.send(ended.speaker_connection_id, report)
        return report

    def build(self, ended: Session) -> SessionReport:
        ended_at = ended.ended_at if ended.ended_at is not None else self._rt.clock.now()
        samples = self._reports.samples(ended.session_id)
        peaks: dict[str, int] = {}
        for sample in samples:
            for language, count in sample.languages.items():
                peaks[language] = max(peaks.get(language, 0), count)
        report = SessionReport(
            session_id=ended.session_id,
            source_language=ended.source_language,
            started_at=ended.created_at,
            ended_at=ended_at,
            duration_seconds=max(int(ended_at - ended.created_at), 0),
            audio_seconds=round(ended.audio_offset, 3),
            peak_listeners=max((sample.listeners for sample in samples), default=0),
            peak_listeners_by_language=dict(sorted(peaks.items())),
            listeners_over_time=samples,
            # the cost meter's counts, as sessionStatus reports them (the session as read when it ended)
            usage=usage_so_far(ended),
            estimated_cost_usd=round(self._rt.prices.estimate(ended.billed_usage), 4),
        )
        return fitted(report)

    def _expiry(self, now: float) -> int:
        return int(now) + self._rt.settings.transcript_retention_seconds


def fitted(report: SessionReport) -> SessionReport:
    """The report with its samples merged pairwise until its JSON fits :data:`REPORT_BYTES` (its peaks were taken
    from every sample before)."""
    while len(json.dumps(report.to_wire())) > REPORT_BYTES and len(report.listeners_over_time) > 1:
        report = report.model_copy(update={"listeners_over_time": merge_pairs(report.listeners_over_time)})
    return report


def merge_pairs(samples: list[AudienceSample]) -> list[AudienceSample]:
    """Half as many samples: each pair of neighbours becomes the larger of the two."""
    return [max(samples[i : i + 2], key=lambda sample: sample.listeners) for i in range(0, len(samples), 2)]
