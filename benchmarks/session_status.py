"""getSessionStatus latency with 500 and 5,000 listeners in one session (moto + local Management API)."""

from __future__ import annotations

import contextlib
import io
import time

import boto3

from benchmarks.harness import aws_in_process, speaker_session
from benchmarks.stats import describe, percentile
from broadcast_shared.config import Settings
from session_management.app import SessionRuntime
from tests.support.events import FakeLambdaContext, message_event
from tests.support.harness import handler_module
from tests.support.tables import fresh_settings

REQUESTS = 200
AUDIENCES = (500, 5000)
LANGUAGES = ("es", "fr", "pt", "de")


def run() -> None:
    print(f"== getSessionStatus latency, {REQUESTS} requests per audience (moto server, local Management API)")
    p50s = {}
    with aws_in_process() as (management_endpoint, sink):
        for audience in AUDIENCES:
            settings = fresh_settings(
                boto3.client("dynamodb"), management_endpoint, control_rate_per_second=REQUESTS * 10
            )
            runtime = SessionRuntime.build_session(settings)
            session_id = speaker_session(runtime, sink)
            seat_listeners(settings, session_id, audience)
            handler = handler_module("getSessionStatus").handler.using(runtime)
            samples = []
            for _ in range(REQUESTS):
                with contextlib.redirect_stdout(io.StringIO()):  # the EMF and log lines, still produced
                    started = time.perf_counter()
                    handler(message_event("speaker", {"action": "getSessionStatus"}), FakeLambdaContext())
                    samples.append((time.perf_counter() - started) * 1000)
            status = sink.messages("speaker", "sessionStatus")[-1]
            assert status["listenerCount"] == audience, status
            p50s[audience] = percentile(samples, 0.5)
            print(f"  {audience:5d} listeners  {describe(samples)}")
    print(f"  p50 ratio 5,000 / 500 listeners: {p50s[5000] / p50s[500]:.2f}x (1.0 = independent of audience)")


def seat_listeners(settings: Settings, session_id: str, audience: int, languages: tuple[str, ...] = LANGUAGES) -> None:
    """Seat listeners as joinSession leaves them: connection items plus the session's counters."""
    dynamodb = boto3.resource("dynamodb")
    counts: dict[str, int] = {}
    now = int(time.time())
    with dynamodb.Table(settings.connections_table).batch_writer() as batch:
        for n in range(audience):
            language = languages[n % len(languages)]
            counts[language] = counts.get(language, 0) + 1
            batch.put_item(
                Item={
                    "connectionId": f"listener-{n}",
                    "role": "listener",
                    "sessionId": session_id,
                    "targetLanguage": language,
                    "connectedAt": now,
                    "lastSeenAt": now,
                }
            )
    dynamodb.Table(settings.sessions_table).update_item(
        Key={"sessionId": session_id},
        UpdateExpression="SET listenerCount = :n, languageCounts = :c",
        ExpressionAttributeValues={":n": audience, ":c": counts},
    )
