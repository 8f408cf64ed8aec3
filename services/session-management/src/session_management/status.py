"""Session status: what a speaker is told about their audience, and when."""

from __future__ import annotations

from broadcast_shared.messages.outbound import BroadcastState, SessionStatus, UpdateReason, Usage
from broadcast_shared.pricing import Prices
from broadcast_shared.repositories.records import Session

#: a listener count that moves by more than this fraction of the last reported count
#: triggers a ``listenerCountChange`` status
COUNT_CHANGE_THRESHOLD = 0.10

UNKNOWN_LANGUAGE = "unknown"


def language_distribution(language_counts: dict[str, int]) -> dict[str, int]:
    """Listeners per target language; a missing or empty language counts as ``unknown``."""
    distribution: dict[str, int] = {}
    for language, count in language_counts.items():
        if count <= 0:
            continue
        key = language.strip() or UNKNOWN_LANGUAGE
        distribution[key] = distribution.get(key, 0) + count
    return dict(sorted(distribution.items()))


def broadcast_state(session: Session) -> BroadcastState:
    return BroadcastState(
        is_paused=session.is_paused,
        is_muted=session.is_muted,
        volume=session.volume,
        questions_closed=session.questions_closed or None,
        captions_delayed=session.captions_delayed or None,
    )


def usage_so_far(session: Session) -> Usage:
    """What the session has been billed on so far, as the cost meter added it to its item (its recognised audio at
    least what the worker has claimed: ``Session.billed_usage``)."""
    usage = session.billed_usage
    return Usage(
        audio_seconds=round(usage.audio_seconds, 1),
        translated_characters=usage.translated_characters,
        spoken_characters=usage.spoken_characters,
        messages_sent=usage.messages_sent,
    )


def session_status(session: Session, reason: UpdateReason, now: float, prices: Prices) -> SessionStatus:
    """The status for the speaker, with the session's usage so far and its estimated cost."""
    return SessionStatus(
        session_id=session.session_id,
        listener_count=max(session.listener_count, 0),
        language_distribution=language_distribution(session.language_counts),
        session_duration=max(int(now - session.created_at), 0),
        broadcast_state=broadcast_state(session),
        timestamp=now,
        update_reason=reason,
        usage=usage_so_far(session),
        estimated_cost_usd=round(prices.estimate(session.billed_usage), 4),
    )


def triggered_reason(session: Session) -> UpdateReason | None:
    """Why the speaker should hear about a change in the audience now, if at all."""
    languages = frozenset(language_distribution(session.language_counts))
    if languages - session.reported_languages:
        return UpdateReason.NEW_LANGUAGE
    reported = session.reported_listener_count
    moved = abs(session.listener_count - reported)
    if moved and moved > COUNT_CHANGE_THRESHOLD * reported:
        return UpdateReason.LISTENER_COUNT_CHANGE
    return None
