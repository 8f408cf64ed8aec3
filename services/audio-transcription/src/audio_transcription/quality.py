"""Audio quality warnings for the speaker, from a session's measurements in order.

Each issue is raised when it persists (not on one odd chunk) and at most once per
``repeat_seconds`` of audio, so a speaker is told, not flooded:

* clipping: over 1% of samples at full scale across the last second of audio;
* silence: five seconds of audio below -60 dBFS (a muted or disconnected microphone);
* sampleRate: three seconds of speech with almost nothing above 4 kHz, what 8 kHz
  audio sent as 16 kHz looks like.
"""

from __future__ import annotations

from collections import deque

from audio_transcription.chunks import ChunkMeasurement
from broadcast_shared.messages.outbound import QualityIssue

MESSAGES = {
    QualityIssue.CLIPPING: "the audio is clipping; lower the microphone gain",
    QualityIssue.SILENCE: "the audio has been silent for several seconds; is the microphone muted?",
    QualityIssue.SAMPLE_RATE: "the audio has no content above 4 kHz; send 16 kHz audio, not upsampled 8 kHz",
}


class QualityMonitor:
    CLIPPING_FRACTION = 0.01
    SILENCE_DBFS = -60.0
    SPEECH_DBFS = -45.0
    HIGH_BAND_RATIO = 1e-4

    def __init__(self, repeat_seconds: float = 30.0) -> None:
        self._repeat = repeat_seconds
        self._recent: deque[ChunkMeasurement] = deque()
        self._silent_for = 0.0
        self._narrow_for = 0.0
        self._audio_seconds = 0.0
        self._last_raised: dict[QualityIssue, float] = {}

    def add(self, measurement: ChunkMeasurement) -> list[QualityIssue]:
        self._audio_seconds += measurement.duration
        self._recent.append(measurement)
        while sum(m.duration for m in self._recent) - self._recent[0].duration >= 1.0:
            self._recent.popleft()
        self._silent_for = self._silent_for + measurement.duration if measurement.rms_dbfs < self.SILENCE_DBFS else 0.0
        if measurement.rms_dbfs >= self.SPEECH_DBFS:
            narrow = measurement.high_band_ratio < self.HIGH_BAND_RATIO
            self._narrow_for = self._narrow_for + measurement.duration if narrow else 0.0
        found = []
        seconds = sum(m.duration for m in self._recent)
        clipped = sum(m.clipped_fraction * m.duration for m in self._recent) / seconds if seconds else 0.0
        if seconds >= 0.5 and clipped > self.CLIPPING_FRACTION:
            found.append(QualityIssue.CLIPPING)
        if self._silent_for >= 5.0:
            found.append(QualityIssue.SILENCE)
        if self._narrow_for >= 3.0:
            found.append(QualityIssue.SAMPLE_RATE)
        return [issue for issue in found if self._due(issue)]

    def _due(self, issue: QualityIssue) -> bool:
        last = self._last_raised.get(issue)
        if last is not None and self._audio_seconds - last < self._repeat:
            return False
        self._last_raised[issue] = self._audio_seconds
        return True
