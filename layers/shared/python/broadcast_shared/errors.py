"""The one enum of error codes a client can receive, and the exception that carries one.

Every rejection anywhere below a handler raises :class:`BroadcastError`; the route
wrapper in :mod:`broadcast_shared.websocket` turns it into a single ``error`` message.
``docs/ERROR_CODES.md`` documents each code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError


class ErrorCode(StrEnum):
    INVALID_JSON = "INVALID_JSON"
    UNKNOWN_ACTION = "UNKNOWN_ACTION"
    INVALID_MESSAGE = "INVALID_MESSAGE"
    MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"
    FORBIDDEN = "FORBIDDEN"
    NOT_IN_SESSION = "NOT_IN_SESSION"
    ALREADY_IN_SESSION = "ALREADY_IN_SESSION"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    SESSION_ENDED = "SESSION_ENDED"
    SESSION_FULL = "SESSION_FULL"
    PASSCODE_REQUIRED = "PASSCODE_REQUIRED"
    PASSCODE_INCORRECT = "PASSCODE_INCORRECT"
    CAPACITY_REACHED = "CAPACITY_REACHED"
    UNSUPPORTED_LANGUAGE = "UNSUPPORTED_LANGUAGE"
    INVALID_AUDIO = "INVALID_AUDIO"
    RATE_LIMITED = "RATE_LIMITED"
    TRANSCRIPTION_UNAVAILABLE = "TRANSCRIPTION_UNAVAILABLE"
    TRANSCRIPTION_THROTTLED = "TRANSCRIPTION_THROTTLED"
    QUESTIONS_CLOSED = "QUESTIONS_CLOSED"
    QUESTION_NOT_FOUND = "QUESTION_NOT_FOUND"
    INTERNAL_ERROR = "INTERNAL_ERROR"


#: the pydantic error type the inbound models raise for a language they do not support, which the route wrapper
#: reports as ``UNSUPPORTED_LANGUAGE`` (here, so that functions taking no client message never import those models)
UNSUPPORTED_LANGUAGE_ERROR = "unsupported_language"


class BroadcastError(Exception):
    """A rejection a client is told about, with a code from :class:`ErrorCode`."""

    def __init__(self, code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


def invalid(exc: ValidationError) -> BroadcastError:
    """A model's refusal as one coded error: ``UNSUPPORTED_LANGUAGE`` when a language is what is wrong, else
    ``INVALID_MESSAGE``, with each problem's field (the route wrapper answers it; an internal event's entry logs and
    counts it)."""
    problems = [
        {"field": ".".join(str(part) for part in error["loc"]) or "(message)", "problem": error["msg"]}
        for error in exc.errors(include_url=False, include_input=False)
    ]
    code = (
        ErrorCode.UNSUPPORTED_LANGUAGE
        if any(error["type"] == UNSUPPORTED_LANGUAGE_ERROR for error in exc.errors())
        else ErrorCode.INVALID_MESSAGE
    )
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return BroadcastError(code, summary, {"problems": problems})
