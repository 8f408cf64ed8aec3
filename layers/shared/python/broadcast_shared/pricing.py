"""What a session's work costs: its usage, and the one place the price file's prices are applied (issue #22).

The prices come from the committed price file (``infrastructure/pricing/<region>.json``: each price with its
source page and date). ``make cost`` (``broadcast_tools.cost``) reads the file itself; the functions get the
same prices from Terraform, which decodes the file into the ``PRICES`` variable (name -> USD). Both price
through :class:`Prices`, so no price is applied in two places.

A session's **usage** is kept on its item (:meth:`SessionsRepository.add_usage`): the cost meter
(:mod:`broadcast_shared.meter`) sums its counts per session and adds them with one DynamoDB ``ADD`` per
session each time it flushes (the end of an invocation, at least once a minute in a long one), never per call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

#: the price names the live estimate needs (the file has more: ``make cost`` prices every component)
LIVE_PRICES = (
    "transcribe_streaming_second",
    "translate_character",
    "polly_neural_character",
    "polly_standard_character",
    "websocket_message",
)


def read_price_file(path: Path) -> dict[str, float]:
    """The price file's prices, name -> USD."""
    return {name: float(entry["usd"]) for name, entry in json.loads(path.read_text())["prices"].items()}


#: the session item's attribute each usage count is kept in
USAGE_ATTRIBUTES = {
    "audio_seconds": "usageAudioSeconds",
    "translated_characters": "usageTranslatedCharacters",
    "spoken_characters": "usageSpokenCharacters",
    "neural_characters": "usageNeuralCharacters",
    "messages_sent": "usageMessagesSent",
    "message_units": "usageMessageUnits",
}


@dataclass(frozen=True)
class SessionUsage:
    """What a session has been billed on so far (the billing units of :mod:`broadcast_shared.meter`)."""

    #: seconds of the speaker's audio streamed to the recogniser (Transcribe)
    audio_seconds: float = 0.0
    #: characters translated (Translate), partials and finals
    translated_characters: int = 0
    #: billable characters synthesised (Polly), all voices
    spoken_characters: int = 0
    #: of which by neural voices
    neural_characters: int = 0
    #: Management API posts (messages sent to clients)
    messages_sent: int = 0
    #: those messages in API Gateway's billed 32 KB units
    message_units: int = 0

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> SessionUsage:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = item.get(USAGE_ATTRIBUTES[f.name], 0)
            values[f.name] = float(raw) if f.name == "audio_seconds" else int(raw)
        return cls(**values)

    @classmethod
    def from_meter(cls, key: tuple[Any, ...], units: Mapping[str, float]) -> SessionUsage:
        """The usage one meter count (call key, units) stands for; nothing for calls billed otherwise."""
        service, detail = key[0], key[5]
        if service == "transcribe":
            return cls(audio_seconds=units.get("AudioSeconds", 0.0))
        if service == "translate":
            return cls(translated_characters=int(units.get("Characters", 0)))
        if service == "polly":
            characters = int(units.get("Characters", 0))
            neural = characters if detail == ("Engine", "neural") else 0
            return cls(spoken_characters=characters, neural_characters=neural)
        if service == "apigatewaymanagementapi":
            return cls(messages_sent=int(units.get("Calls", 0)), message_units=int(units.get("MessageUnits", 0)))
        return cls()

    def __add__(self, other: SessionUsage) -> SessionUsage:
        return SessionUsage(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def as_attributes(self) -> dict[str, float | int]:
        """The non-zero counts by item attribute (what an ``ADD`` adds)."""
        return {USAGE_ATTRIBUTES[f.name]: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


@dataclass(frozen=True)
class Prices:
    """USD per billing unit, from the price file."""

    usd: Mapping[str, float]

    def transcribe(self, seconds: float) -> float:
        return seconds * self.usd["transcribe_streaming_second"]

    def translate(self, characters: float) -> float:
        return characters * self.usd["translate_character"]

    def speech(self, characters: float, voice: str) -> float:
        return characters * self.usd[f"polly_{voice}_character"]

    def messages(self, units: float) -> float:
        return units * self.usd["websocket_message"]

    def estimate(self, usage: SessionUsage) -> float:
        """The session's estimated cost so far: recognition, translation, speech and messages to clients (what
        grows with the talk and its audience; Lambda, DynamoDB, logs and connection minutes are not counted)."""
        return (
            self.transcribe(usage.audio_seconds)
            + self.translate(usage.translated_characters)
            + self.speech(usage.neural_characters, "neural")
            + self.speech(usage.spoken_characters - usage.neural_characters, "standard")
            + self.messages(usage.message_units)
        )
