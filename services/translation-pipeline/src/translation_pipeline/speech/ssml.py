"""SSML from a segment's emotion dynamics and the session's volume, within fixed bounds.

| prosody | from | bounds |
|---|---|---|
| volume | (dynamics.volume - 0.5) x 12 dB, plus 20 log10(session volume) | -20 dB .. +6 dB |
| rate | dynamics.rate x 100% | 80% .. 130% |
| pitch (voices that support it) | (dynamics.energy - 0.5) x 20% | -10% .. +10% |

The text is XML-escaped; nothing from the segment reaches the SSML unescaped.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape, quoteattr

from broadcast_shared.messages.segments import EmotionDynamics

VOLUME_DB = (-20.0, 6.0)
RATE_PERCENT = (80, 130)
PITCH_PERCENT = (-10, 10)


def _clip(value: float, bounds: tuple[float, float]) -> float:
    return max(bounds[0], min(bounds[1], value))


def prosody(dynamics: EmotionDynamics, session_volume: float, with_pitch: bool) -> dict[str, str]:
    volume_db = (dynamics.volume - 0.5) * 12.0 + 20.0 * math.log10(max(session_volume, 0.01))
    attributes = {
        "volume": f"{_clip(volume_db, VOLUME_DB):+.1f}dB",
        "rate": f"{round(_clip(dynamics.rate * 100, RATE_PERCENT))}%",
    }
    if with_pitch:
        attributes["pitch"] = f"{round(_clip((dynamics.energy - 0.5) * 20, PITCH_PERCENT)):+d}%"
    return attributes


def build_ssml(text: str, dynamics: EmotionDynamics, session_volume: float, with_pitch: bool) -> str:
    attributes = " ".join(f"{k}={quoteattr(v)}" for k, v in prosody(dynamics, session_volume, with_pitch).items())
    return f"<speak><prosody {attributes}>{escape(text)}</prosody></speak>"
