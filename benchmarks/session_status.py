"""getSessionStatus latency with 500 and 5,000 listeners in one session (moto + local Management API)."""

from __future__ import annotations

import contextlib
import io
import os
import time

import boto3
from moto.server import ThreadedMotoServer

from benchmarks.stats import describe, percentile
from broadcast_shared.config import Settings
from broadcast_shared.repositories.records import Role
from local_runtime.management_api import ManagementApiServer, RecordingSink
from tests.support.events import FakeLambdaContext, message_event
from tests.support.ports import free_port
from tests.support.tables import fresh_settings

REQUESTS = 200
AUDIENCES = (500, 5000)
LANGUAGES = ("es", "fr", "pt", "de")


def run() -> None:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="eu-west-1",
    )
    sink = RecordingSink()
    management = ManagementApiServer(sink).start()
    from session_management.app import SessionRuntime
    from session_management.handlers import create_session, get_session_status

    print(f"== getSessionStatus latency, {REQUESTS} requests per audience (moto server, local Management API)")
    p50s = {}
    try:
        for audience in AUDIENCES:
            settings = fresh_settings(
                boto3.client("dynamodb"), management.endpoint, control_rate_per_second=REQUESTS * 10
            )
            runtime = SessionRuntime.build_session(settings)
            runtime.connections.add("speaker", Role.SPEAKER, time.time())
            sink.open("speaker")
            with contextlib.redirect_stdout(io.StringIO()):
                create_session.handler.using(runtime)(
                    message_event("speaker", {"action": "createSession", "sourceLanguage": "en"}), FakeLambdaContext()
                )
            session_id = sink.messages("speaker", "sessionCreated")[-1]["sessionId"]
            seat_listeners(settings, session_id, audience)
            handler = get_session_status.handler.using(runtime)
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
    finally:
        management.stop()
        server.stop()


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
