"""The control queue: each message names a session whose broadcast state the listeners have not been sent yet.

Session management's coalesced control broadcasts (``session_management.control``) leave one delayed message per
window on it; the transcription worker leaves one when captions are held back and when they flow again
(``broadcastState.captionsDelayed``). ``publish_broadcast_state`` consumes it and sends the session's state as it
is then, within the session's broadcast rate. Every message is a :class:`ControlFollowUp`, built by the producers
and parsed by the consumer.
"""

from typing import Any

from pydantic import Field

from broadcast_shared.messages.wire import WireModel


class ControlFollowUp(WireModel):
    """A control-queue message: ``{"sessionId": ...}``."""

    session_id: str = Field(min_length=1, max_length=128)


class FollowUpQueue:
    """The control queue: one message per broadcast of a session's state still to send."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def send(self, session_id: str, delay_seconds: int = 0) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=ControlFollowUp(session_id=session_id).model_dump_json(by_alias=True),
            DelaySeconds=delay_seconds,
        )
