"""Connecting and printing what the server sends."""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import urlencode

DEFAULT_URL = "ws://127.0.0.1:8765/local"


def url_for(base: str, **query: str) -> str:
    return f"{base}{'&' if '?' in base else '?'}{urlencode(query)}"


#: the messages whose line is their fields in a sentence (a field the message lacks reads None)
LINES = {
    "error": "error {code}: {message}",
    "listenerCountChanged": "listeners: {listenerCount}",
    "sessionEnded": "session {sessionId} ended ({reason})",
    "speakerReconnecting": "the speaker's connection dropped: waiting up to {graceSeconds} s for them to come back",
    "speakerReconnected": "the speaker is back",
    "languageChanged": "now in {targetLanguage}",
    "connectionRefresh": "the connection closes in {secondsRemaining} s: {message}",
}


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> None:
        return None


def describe(message: dict[str, Any]) -> str:
    """One readable line for a server message."""
    kind = message.get("type", "?")
    if kind in LINES:
        return LINES[kind].format_map(_Fields(message))
    if kind == "translation":
        marks = "…" if message.get("isPartial") else ""
        marks += "" if message.get("translated", True) else " (untranslated)"
        speech = " [speech]" if message.get("audio") else ""
        if message.get("speech") == "standard":
            speech = " [speech, standard voice]"
        elif message.get("speech") == "skipped":
            speech = " [speech unavailable for this line]"
        return f"[{message.get('language')}] {message.get('text')}{marks}{speech}"
    if kind == "transcript":
        return f"[heard] {message.get('text')}{'…' if message.get('isPartial') else ''}"
    if kind == "audioQualityWarning":
        return f"audio warning ({message.get('issue')}): {message.get('message')}"
    if kind == "sessionStatus":
        languages = ", ".join(f"{k} {v}" for k, v in message.get("languageDistribution", {}).items()) or "none"
        return (
            f"status ({message.get('updateReason')}): {message.get('listenerCount')} listeners [{languages}], "
            f"{message.get('sessionDuration')} s, {json.dumps(message.get('broadcastState'))}"
        )
    if kind == "broadcastStateChanged":
        state = message.get("broadcastState", {})
        delayed = ", captions delayed (speech recognition is busy; they follow in order)"
        return (
            f"broadcast: {'paused' if state.get('isPaused') else 'live'}, "
            f"{'muted' if state.get('isMuted') else 'speech on'}, volume {state.get('volume')}"
            f"{delayed if state.get('captionsDelayed') else ''}"
        )
    if kind == "sessionJoined":
        talk = f": {message['title']}" if message.get("title") else ""
        talk += f", by {message['presenter']}" if message.get("presenter") else ""
        return (
            f"joined {message.get('sessionId')} in {message.get('targetLanguage')} "
            f"(speaker: {message.get('sourceLanguage')}){talk}"
        )
    if kind == "sessionReport":
        return report_lines(message)
    if kind == "question":
        original = f" ({message.get('language')}: {message.get('text')})" if message.get("translated") else ""
        return f"question {message.get('questionId')}: {message.get('translatedText')}{original}"
    return json.dumps(message)


def report_lines(report: dict[str, Any]) -> str:
    """The ``sessionReport`` a speaker gets after ``endSession``, in a few lines."""
    peaks = ", ".join(f"{k} {v}" for k, v in report.get("peakListenersByLanguage", {}).items()) or "none"
    usage = report.get("usage", {})
    return "\n".join(
        (
            f"report for {report.get('sessionId')}: {report.get('durationSeconds')} s, "
            f"{report.get('audioSeconds')} s of audio, peak {report.get('peakListeners')} listeners [{peaks}]",
            f"  usage: {usage.get('audioSeconds')} s recognised, {usage.get('translatedCharacters')} characters "
            f"translated, {usage.get('spokenCharacters')} spoken, {usage.get('messagesSent')} messages; "
            f"estimated cost ${report.get('estimatedCostUsd')} (--json prints the whole report)",
        )
    )


def emit(message: dict[str, Any], raw: bool) -> None:
    """Print a server message; a ``heartbeatAck`` only as raw JSON."""
    if raw:
        print(json.dumps(message), flush=True)
    elif message.get("type") != "heartbeatAck":
        print(describe(message), flush=True)


def note(text: str) -> None:
    """A line about the connection itself (dropped, rejoined), on standard error."""
    print(text, file=sys.stderr, flush=True)


def is_gateway_answer(message: dict[str, Any]) -> bool:
    """API Gateway's own answer, without a ``type``: ``{"message": "Internal server error"}`` when the route's
    function failed or timed out (a cold start on a busy machine), ``{"message": "Forbidden"}``."""
    return "type" not in message and "message" in message


class NotAnswered(Exception):
    """The server failed the request that makes a connection usable (join, create or resume): the client
    drops the connection and tries again on a new one."""


class ClientFailed(Exception):
    """The client cannot go on; ``main`` prints it on standard error and exits 1."""
