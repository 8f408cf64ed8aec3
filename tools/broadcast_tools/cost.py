"""What a talk costs (issue #22): a measured run's counts, scaled to a scenario, priced per region.

    python -m broadcast_tools.cost COUNTS.json [--prices infrastructure/pricing/eu-west-1.json]
        [--hours 1] [--listeners 1000] [--languages 5] [--voice neural] [--no-speech]
        [--words-per-minute 150] [--architecture x86_64] [--json]

``COUNTS.json`` is one run of the local platform (``python -m benchmarks cost`` writes it: the cost
meter's counts per AWS call, the gateway's messages and connection time, the runtime's Lambda requests
and GB-seconds, the function logs' bytes; ``local_runtime.metering.run_counts``) with the run itself
(talk seconds, listeners, languages, words per minute).

Each count grows with one **driver**, so the run's counts are scaled by the scenario's driver over the
run's: the talk's length (recognition, the speaker's audio and messages, the worker, the stream); the
text spoken in each language (translation, speech, the pipeline: languages × length × words per
minute); each listener's time (connection minutes, status, heartbeats); each listener's text (captions
and speech sent to listeners: listeners × length × words per minute); each listener once (connect,
authorise, join, leave); the session once (create, end, controls). The **floor** is the work no design
avoids: Transcribe for the talk, Translate of the finals into each language, Polly of the translated
finals, one message per final per listener (its speech inline) and the listeners' connection minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from broadcast_shared.pricing import Prices, read_price_file
from broadcast_tools.artifacts import ROOT

PRICES = ROOT / "infrastructure" / "pricing" / "eu-west-1.json"
GB = 1024**3

#: which driver each function's work grows with (``platform.json``'s names, with dashes)
FUNCTION_DRIVERS = {
    "send-audio": "talk",
    "transcription-worker": "talk",
    "publish-periodic-status": "talk",
    "sweep-idle-connections": "talk",
    "reconcile-counts": "talk",
    "translate-segment": "text",
    "authorizer": "listeners",
    "connect": "listeners",
    "join-session": "listeners",
    "change-language": "listeners",
    "disconnect": "listeners",
    "heartbeat": "listener_time",
    "get-session-status": "listener_time",
    "default": "listener_time",
}
#: messages to listeners that carry the talk's text (captions, speech)
TEXT_MESSAGES = ("translation/final", "translation/partial", "audio")
#: messages a listener gets once
ONCE_MESSAGES = ("sessionJoined",)

COMPONENTS = (
    "Transcribe",
    "Translate (finals)",
    "Translate (partials)",
    "Polly",
    "WebSocket messages",
    "WebSocket connection minutes",
    "Lambda",
    "DynamoDB",
    "Kinesis",
    "CloudWatch Logs",
)


@dataclass(frozen=True)
class Scenario:
    """What to price: the reference event by default (issue #22)."""

    hours: float = 1.0
    listeners: int = 1000
    languages: int = 5
    voice: Literal["neural", "standard"] = "neural"
    speech: bool = True
    words_per_minute: float = 150.0


@dataclass(frozen=True)
class Run:
    """The measured run the counts come from."""

    talk_seconds: float
    listeners: int
    languages: int
    words_per_minute: float

    @classmethod
    def of(cls, counts: dict[str, Any]) -> Run:
        run = counts["run"]
        return cls(
            float(run["talkSeconds"]), int(run["listeners"]), len(run["languages"]), float(run["wordsPerMinute"])
        )


def drivers(amount: Run | Scenario) -> dict[str, float]:
    """How much of each driver a run or a scenario has."""
    if isinstance(amount, Run):
        seconds, listeners, languages, words = (
            amount.talk_seconds,
            amount.listeners,
            amount.languages,
            amount.words_per_minute,
        )
    else:
        seconds, listeners, languages, words = (
            amount.hours * 3600,
            amount.listeners,
            amount.languages,
            amount.words_per_minute,
        )
    return {
        "talk": seconds,
        "text": languages * seconds * words,
        "listener_time": listeners * seconds,
        "listener_text": listeners * seconds * words,
        "listeners": float(listeners),
        "session": 1.0,
    }


def load_prices(path: Path = PRICES) -> dict[str, float]:
    return read_price_file(path)


@dataclass(frozen=True)
class Bill:
    scenario: Scenario
    #: dollars for the whole scenario, by component
    components: dict[str, float]
    floor: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.components.values())

    @property
    def floor_total(self) -> float:
        return sum(self.floor.values())

    def as_json(self) -> dict[str, Any]:
        hours = self.scenario.hours
        listener_hours = hours * self.scenario.listeners
        return {
            "scenario": asdict(self.scenario),
            "perTalkHour": {name: value / hours for name, value in self.components.items()},
            "totalPerTalkHour": self.total / hours,
            "perListenerHour": self.total / listener_hours if listener_hours else None,
            "floorPerTalkHour": {name: value / hours for name, value in self.floor.items()},
            "floorTotalPerTalkHour": self.floor_total / hours,
            "ratio": self.total / self.floor_total if self.floor_total else None,
        }


def price(counts: dict[str, Any], scenario: Scenario, prices: dict[str, float], architecture: str = "x86_64") -> Bill:
    """The scenario's bill from one run's counts."""
    measured, wanted = drivers(Run.of(counts)), drivers(scenario)

    def scaled(quantity: float, driver: str) -> float:
        return quantity * wanted[driver] / measured[driver] if measured[driver] else 0.0

    unit = Prices(prices)
    cost: dict[str, float] = defaultdict(float)
    floor: dict[str, float] = defaultdict(float)
    for call in counts["calls"]:
        metrics, function = call["metrics"], call["function"]
        service = call["service"]
        if service == "transcribe":
            cost["Transcribe"] += unit.transcribe(scaled(metrics.get("BilledAudioSeconds", 0), "talk"))
        elif service == "translate":
            part = "Translate (partials)" if call["segment_kind"] == "partial" else "Translate (finals)"
            cost[part] += unit.translate(scaled(metrics.get("BilledCharacters", 0), "text"))
            if call["segment_kind"] == "final":
                # The floor translates every final whole, whatever the cache gave this run for nothing.
                whole = metrics.get("BilledCharacters", 0) + metrics.get("CachedCharacters", 0)
                floor["Translate (finals)"] += unit.translate(scaled(whole, "text"))
        elif service == "polly" and scenario.speech:
            dollars = unit.speech(scaled(metrics.get("BilledCharacters", 0), "text"), scenario.voice)
            cost["Polly"] += dollars
            if call["segment_kind"] == "final":
                floor["Polly"] += dollars
        elif service == "dynamodb":
            driver = FUNCTION_DRIVERS.get(function, "session")
            cost["DynamoDB"] += scaled(metrics.get("BilledReadUnits", 0), driver) * prices["dynamodb_read_request_unit"]
            cost["DynamoDB"] += (
                scaled(metrics.get("BilledWriteUnits", 0), driver) * prices["dynamodb_write_request_unit"]
            )
        elif service == "kinesis":
            cost["Kinesis"] += (
                scaled(metrics.get("PayloadBytes", 0), "talk") / GB * prices["kinesis_on_demand_ingested_gb"]
                + scaled(metrics.get("RetrievedBytes", 0), "talk") / GB * prices["kinesis_on_demand_retrieved_gb"]
            )
    cost["Kinesis"] += scenario.hours * prices["kinesis_on_demand_stream_hour"]
    # Transcribe for the whole talk, whatever was measured: the floor's recognition.
    floor["Transcribe"] = unit.transcribe(scenario.hours * 3600)

    for message in counts["messages"]:
        units, driver = _message_units(message, scenario.speech)
        dollars = unit.messages(scaled(units, driver))
        cost["WebSocket messages"] += dollars
        if message["role"] == "listener" and message["kind"] in ("translation/final", "audio"):
            floor["WebSocket messages"] += dollars
    for role, seconds in counts["connectionSeconds"].items():
        driver = "listener_time" if role == "listener" else "talk"
        cost["WebSocket connection minutes"] += scaled(seconds, driver) / 60 * prices["websocket_connection_minute"]
    floor["WebSocket connection minutes"] = (
        scenario.listeners * scenario.hours * 60 * prices["websocket_connection_minute"]
    )

    gb_second = prices[f"lambda_gb_second_{architecture}"]
    for function, usage in counts["lambda"].items():
        driver = FUNCTION_DRIVERS.get(function, "session")
        cost["Lambda"] += scaled(usage["requests"], driver) * prices["lambda_request"]
        cost["Lambda"] += scaled(usage["gbSeconds"], driver) * gb_second
    for function, size in counts["logBytes"].items():
        cost["CloudWatch Logs"] += (
            scaled(size, FUNCTION_DRIVERS.get(function, "session")) / GB * prices["cloudwatch_logs_ingested_gb"]
        )
    return Bill(scenario, {name: cost.get(name, 0.0) for name in COMPONENTS}, dict(floor))


def _message_units(message: dict[str, Any], speech: bool) -> tuple[float, str]:
    """A message count's billed units and driver; without speech, no audio, and captions fit one unit."""
    kind, role = message["kind"], message["role"]
    if role != "listener":
        return float(message["units"]), "talk"
    if kind in TEXT_MESSAGES:
        if not speech:
            return (0.0 if kind == "audio" else float(message["messages"])), "listener_text"
        return float(message["units"]), "listener_text"
    if kind in ONCE_MESSAGES or kind in ("joinSession", "changeLanguage"):
        return float(message["units"]), "listeners"
    return float(message["units"]), "listener_time"


def table(bill: Bill) -> str:
    data = bill.as_json()
    scenario = bill.scenario
    lines = [
        f"== cost: {scenario.hours:g} h talk, {scenario.listeners} listeners in {scenario.languages} languages, "
        f"{scenario.voice} voices, speech {'on' if scenario.speech else 'off'}, "
        f"{scenario.words_per_minute:g} words/min",
        f"  {'component':<30} {'$ per talk-hour':>16} {'floor':>12}",
    ]
    for name in COMPONENTS:
        lines.append(
            f"  {name:<30} {data['perTalkHour'][name]:>16.4f} {data['floorPerTalkHour'].get(name, 0.0):>12.4f}"
        )
    lines.append(f"  {'total':<30} {data['totalPerTalkHour']:>16.4f} {data['floorTotalPerTalkHour']:>12.4f}")
    if data["perListenerHour"] is not None:
        lines.append(f"  $ per listener-hour: {data['perListenerHour']:.6f}")
    if data["ratio"] is not None:
        lines.append(f"  ratio to the floor: {data['ratio']:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="broadcast_tools.cost", description=__doc__.splitlines()[0])
    parser.add_argument("counts", type=Path, help="one run's counts (python -m benchmarks cost writes them)")
    parser.add_argument("--prices", type=Path, default=PRICES)
    defaults = Scenario()
    parser.add_argument("--hours", type=float, default=defaults.hours)
    parser.add_argument("--listeners", type=int, default=defaults.listeners)
    parser.add_argument("--languages", type=int, default=defaults.languages)
    parser.add_argument("--voice", choices=["neural", "standard"], default=defaults.voice)
    parser.add_argument("--no-speech", dest="speech", action="store_false")
    parser.add_argument("--words-per-minute", type=float, default=defaults.words_per_minute)
    parser.add_argument("--architecture", choices=["x86_64", "arm64"], default="x86_64")
    parser.add_argument("--json", action="store_true", help="the bill as JSON")
    args = parser.parse_args(argv)
    scenario = Scenario(args.hours, args.listeners, args.languages, args.voice, args.speech, args.words_per_minute)
    bill = price(json.loads(args.counts.read_text()), scenario, load_prices(args.prices), args.architecture)
    print(json.dumps(bill.as_json(), indent=2) if args.json else table(bill))
    return 0


if __name__ == "__main__":
    sys.exit(main())
