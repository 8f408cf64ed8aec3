"""Questions across languages: a listener asks in their language, the speaker reads it in the talk's.

A question goes to the session's speaker alone (never to other listeners), translated into the session's source
language; when no translator serves the pair, or the call fails, the speaker gets the original marked
``translated: false`` (counted as ``QuestionsUntranslated``), never a made-up translation. Each question is
kept in the questions table. Limits (docs/ARCHITECTURE.md, "Limits"): 500 characters (the model), and
``questions_per_connection_per_minute`` per listener and ``questions_per_session_per_minute`` per session, counted
with the shared rate limiter on top of every message's per-connection limit.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from broadcast_shared.errors import BroadcastError, ErrorCode
from broadcast_shared.messages.inbound import QuestionStatus
from broadcast_shared.messages.outbound import Question, QuestionMarked, QuestionReceived
from broadcast_shared.observability import logger, metrics
from broadcast_shared.repositories.questions import StoredQuestion, new_question_id
from broadcast_shared.repositories.records import Connection, Session
from broadcast_shared.translators import TranslationUnavailable
from session_management.app import SessionRuntime
from session_management.sessions import SessionService

#: the window the question limits count in
QUESTION_WINDOW_SECONDS = 60


class QuestionService:
    def __init__(self, runtime: SessionRuntime) -> None:
        self._rt = runtime
        self._settings = runtime.settings

    def ask(self, listener: Connection, text: str) -> None:
        """Translate ``text`` into the session's language, keep it, give it to the speaker, tell the asker."""
        session = self._listening_session(listener)
        if session.questions_closed:
            raise BroadcastError(
                ErrorCode.QUESTIONS_CLOSED, "the speaker is not taking questions", {"sessionId": session.session_id}
            )
        self._count("connection", listener.connection_id, self._settings.questions_per_connection_per_minute)
        self._count("session", session.session_id, self._settings.questions_per_session_per_minute)
        language = listener.target_language or session.source_language
        translated_text, translated = self._translate(text, language, session.source_language)
        now = self._rt.clock.now()
        question = StoredQuestion(
            session_id=session.session_id,
            question_id=new_question_id(now),
            asker_connection_id=listener.connection_id,
            language=language,
            text=text,
            translated_text=translated_text,
            translated=translated,
            asked_at=now,
        )
        self._rt.questions.add(question, int(now) + self._settings.record_ttl_seconds)
        metrics.add_metric(name="QuestionsAsked", unit=MetricUnit.Count, value=1)
        to_speaker = Question(
            session_id=session.session_id,
            question_id=question.question_id,
            language=language,
            text=text,
            translated_text=translated_text,
            translated=translated,
            asked_at=now,
        )
        if not self._rt.notifier.send(session.speaker_connection_id, to_speaker):
            self._rt.departures.speaker_gone(session.session_id, session.speaker_connection_id)
        self._rt.notifier.send(
            listener.connection_id, QuestionReceived(session_id=session.session_id, question_id=question.question_id)
        )

    def mark(self, speaker: Connection, question_id: str, status: QuestionStatus) -> None:
        """Mark an open question of the speaker's session answered or dismissed."""
        session = SessionService(self._rt).owned_session(speaker)
        if not self._rt.questions.mark(session.session_id, question_id, status.value, self._rt.clock.now()):
            raise BroadcastError(
                ErrorCode.QUESTION_NOT_FOUND,
                f"no open question {question_id} in this session",
                {"questionId": question_id},
            )
        self._rt.notifier.send(
            speaker.connection_id,
            QuestionMarked(session_id=session.session_id, question_id=question_id, status=status.value),
        )

    def _listening_session(self, listener: Connection) -> Session:
        if not listener.session_id:
            raise BroadcastError(ErrorCode.NOT_IN_SESSION, "join a session first")
        session = self._rt.sessions.get(listener.session_id)
        if session is None or not session.is_active:
            raise BroadcastError(ErrorCode.SESSION_ENDED, "the session has ended", {"sessionId": listener.session_id})
        return session

    def _count(self, scope: str, key: str, limit: int) -> None:
        """One question against ``scope``'s (``connection`` or ``session``) limit, or ``RATE_LIMITED``."""
        if not self._rt.rate_limiter.try_acquire(
            f"questions#{scope}#{key}", limit, QUESTION_WINDOW_SECONDS, self._rt.clock.now()
        ):
            raise BroadcastError(
                ErrorCode.RATE_LIMITED,
                f"more than {limit} questions a minute from this {scope}; wait a moment",
                {"limit": limit, "windowSeconds": QUESTION_WINDOW_SECONDS, "scope": scope},
            )

    def _translate(self, text: str, source: str, target: str) -> tuple[str, bool]:
        if source == target:
            return text, True
        try:
            return self._rt.translator.translate(text, source, target), True
        except TranslationUnavailable as exc:
            logger.warning("question not translated", extra={"pair": f"{source}->{target}", "reason": str(exc)})
            metrics.add_metric(name="QuestionsUntranslated", unit=MetricUnit.Count, value=1)
            return text, False
