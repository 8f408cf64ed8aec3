"""The questions table: every question a session's listeners asked, in the order they were asked.

One item per question. The partition key is the session id; the sort key ``questionId`` is the time it was
asked in zero-padded milliseconds then eight random hex digits, so a Query returns a session's questions in
order. ``askQuestion`` writes (a conditional put), ``markQuestion`` moves an open question to ``answered`` or
``dismissed``. Items expire (DynamoDB TTL) with the session's records.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from broadcast_shared.repositories import if_condition_holds
from broadcast_shared.repositories.records import dynamo_number

#: a question the speaker has not marked yet
OPEN = "open"


def new_question_id(now: float) -> str:
    """Time-ordered and unguessable: ``<milliseconds, 13 digits>-<8 hex digits>``."""
    return f"{round(now * 1000):013d}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class StoredQuestion:
    session_id: str
    question_id: str
    asker_connection_id: str
    language: str
    text: str
    translated_text: str
    translated: bool
    asked_at: float
    status: str = OPEN


class QuestionsRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def add(self, question: StoredQuestion, expires_at: int) -> None:
        self._table.put_item(
            Item={
                "sessionId": question.session_id,
                "questionId": question.question_id,
                "askerConnectionId": question.asker_connection_id,
                "language": question.language,
                "text": question.text,
                "translatedText": question.translated_text,
                "translated": question.translated,
                "askedAt": dynamo_number(question.asked_at),
                "status": question.status,
                "expiresAt": expires_at,
            },
            ConditionExpression="attribute_not_exists(questionId)",
        )

    def mark(self, session_id: str, question_id: str, status: str, now: float) -> bool:
        """Move an open question of the session to ``status``; False when the session has no such open question."""
        result = if_condition_holds(
            self._table.update_item,
            Key={"sessionId": session_id, "questionId": question_id},
            UpdateExpression="SET #status = :status, markedAt = :now",
            ConditionExpression="attribute_exists(questionId) AND #status = :open",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": status, ":open": OPEN, ":now": dynamo_number(now)},
        )
        return result is not None
