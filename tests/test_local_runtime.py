"""The local runtime (`make dev`) on what Terraform deployed to moto, through real WebSocket and boto3 clients."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from broadcast_tools import local_auth
from local_runtime.deployment import function_name
from tests.support.deployment import emulator_client
from tests.support.frames import receive, send
from tests.support.ports import free_port
from tests.support.running_platform import RunningPlatform
from tests.support.waiting import eventually

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(1)]


@pytest.fixture(scope="module")
def stack(deployed_local):
    with RunningPlatform(deployed_local["endpoint"]) as running:
        yield running


def speaker(stack, token: str | None = None):
    return connect(f"{stack.url}?role=speaker&token={token or local_auth.token()}")


def listener(stack):
    return connect(f"{stack.url}?role=listener")


def create_session(ws) -> str:
    send(ws, action="createSession", sourceLanguage="en")
    return receive(ws, "sessionCreated")["sessionId"]


def test_speaker_and_two_listeners_end_to_end(stack):
    with speaker(stack) as spk, listener(stack) as es, listener(stack) as fr:
        session_id = create_session(spk)
        send(es, action="joinSession", sessionId=session_id, targetLanguage="es")
        assert receive(es, "sessionJoined")["targetLanguage"] == "es"
        send(fr, action="joinSession", sessionId=session_id, targetLanguage="fr")
        receive(fr, "sessionJoined")
        send(spk, action="getSessionStatus")
        status = receive(spk, "sessionStatus")
        reasons = [status["updateReason"]]
        while status["updateReason"] != "requested":
            status = receive(spk, "sessionStatus")
            reasons.append(status["updateReason"])
        assert "newLanguage" in reasons  # triggered: each join brought a language nobody had
        assert status["listenerCount"] == 2
        assert status["languageDistribution"] == {"es": 1, "fr": 1}
        send(spk, action="pauseBroadcast")
        for ws in (es, fr):
            assert receive(ws, "broadcastStateChanged")["broadcastState"]["isPaused"] is True
        spk.close()
        for ws in (es, fr):  # the session waits for the speaker; the sweep ends it after the grace period
            waiting = receive(ws, "speakerReconnecting")
            assert waiting == {**waiting, "sessionId": session_id, "graceSeconds": 60}


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("role=speaker&token=not-a-token", 403),
        ("role=speaker", 403),
        ("role=admin", 403),
        ("", 401),
    ],
)
def test_connect_is_refused_by_the_authorizer(stack, query, status):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{stack.url}?{query}").close()
    assert refused.value.response.status_code == status


def test_expired_speaker_token_is_refused(stack):
    expired = local_auth.token(now=time.time() - 7200, ttl_seconds=60)
    with pytest.raises(InvalidStatus) as refused:
        speaker(stack, expired).close()
    assert refused.value.response.status_code == 403


def test_unknown_action_reaches_default_route(stack):
    with listener(stack) as ws:
        send(ws, action="launchRocket")
        assert receive(ws, "error")["code"] == "UNKNOWN_ACTION"
        ws.send("not json")
        assert receive(ws, "error")["code"] == "INVALID_JSON"


def test_listener_cannot_use_speaker_actions(stack):
    with listener(stack) as ws:
        send(ws, action="pauseBroadcast")
        assert receive(ws, "error")["code"] == "FORBIDDEN"


def test_management_api_serves_boto3_unchanged(stack):
    management = emulator_client("apigatewaymanagementapi", stack.stack.http.endpoint)
    with listener(stack) as ws:
        send(ws, action="heartbeat")
        receive(ws, "heartbeatAck")
        (connection_id,) = [c for c in stack.stack.gateway._connections]  # noqa: SLF001 - the one open connection
        management.post_to_connection(ConnectionId=connection_id, Data=b'{"type":"hello"}')
        assert receive(ws, "hello") == {"type": "hello"}
        info = management.get_connection(ConnectionId=connection_id)
        assert info["Identity"]["SourceIp"] == "127.0.0.1"
        management.delete_connection(ConnectionId=connection_id)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    with pytest.raises(ClientError) as gone:
        management.post_to_connection(ConnectionId=connection_id, Data=b"{}")
    assert gone.value.response["Error"]["Code"] == "GoneException"


def test_frame_over_32kb_closes_the_connection(stack):
    with listener(stack) as ws:
        ws.send(json.dumps({"action": "heartbeat", "padding": "x" * (33 * 1024)}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 1009


def test_message_over_128kb_closes_the_connection(stack):
    with listener(stack) as ws:
        payload = json.dumps({"action": "heartbeat", "padding": "x" * (130 * 1024)})
        fragments = [payload[i : i + 30_000] for i in range(0, len(payload), 30_000)]
        # Several frames under 32 KB, one message over 128 KB: the gateway may close before the last frame is sent.
        with pytest.raises(ConnectionClosed) as closed:
            ws.send(iter(fragments))
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 1009


def test_invoke_api_serves_boto3_lambda_unchanged(stack):
    lambda_ = emulator_client("lambda", stack.stack.http.base_url)
    result = lambda_.invoke(FunctionName="speech-broadcast-local-publish-periodic-status", Payload=b"{}")
    assert "sent" in json.loads(result["Payload"].read())
    queued = lambda_.invoke(
        FunctionName="speech-broadcast-local-sweep-idle-connections", InvocationType="Event", Payload=b"{}"
    )
    assert queued["StatusCode"] == 202
    failed = lambda_.invoke(FunctionName="speech-broadcast-local-heartbeat", Payload=b"{}")
    assert failed["FunctionError"] == "Unhandled"
    with pytest.raises(ClientError) as missing:
        lambda_.invoke(FunctionName="no-such-function", Payload=b"{}")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_an_asynchronous_invocation_failing_every_retry_lands_on_its_on_failure_queue(stack):
    endpoint = stack.stack.endpoint
    sqs = emulator_client("sqs", endpoint)
    queue = sqs.get_queue_url(QueueName="speech-broadcast-local-translate-segment-failures")["QueueUrl"]
    lambda_ = emulator_client("lambda", stack.stack.http.base_url)
    # not an event object at all: the entry point raises (a slice or segment its model refuses is answered instead)
    broken = ["fanOutSlice"]
    queued = lambda_.invoke(
        FunctionName="speech-broadcast-local-translate-segment", InvocationType="Event", Payload=json.dumps(broken)
    )
    assert queued["StatusCode"] == 202
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=20).get("Messages", [])
    assert messages, "the failed event never reached the on-failure queue"
    record = json.loads(messages[0]["Body"])
    assert record["requestPayload"] == broken
    assert record["requestContext"]["approximateInvokeCount"] == 3  # Terraform: two retries
    assert record["responsePayload"]["errorType"] == "AttributeError"
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=messages[0]["ReceiptHandle"])


def test_creating_a_session_warms_send_audio_and_the_worker_before_any_audio(deployed_local, tmp_path):
    def warmed(function: str) -> list[dict]:
        log = tmp_path / f"speech-broadcast-local-{function}.log"
        lines = log.read_text().splitlines() if log.exists() else []
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        return [entry for entry in entries if entry.get("message") == "warmed up"]

    with RunningPlatform(deployed_local["endpoint"], log_dir=tmp_path) as running, speaker(running) as ws:
        create_session(ws)
        eventually(
            lambda: warmed("send-audio") and warmed("transcription-worker"), timeout=60, interval=0.2, what="warm-up"
        )
    assert warmed("send-audio"), "sendAudio was not warmed up"
    assert {entry["recognizer"] for entry in warmed("transcription-worker")} == {"en"}


def test_make_devs_warm_path_starts_the_talks_functions_warmed_before_any_talk(deployed_local, tmp_path):
    def warmed_up(function: str) -> list[dict]:
        lines = (tmp_path / f"speech-broadcast-local-{function}.log").read_text().splitlines()
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        return [entry for entry in entries if entry.get("message") == "warmed up"]

    with RunningPlatform(deployed_local["endpoint"], log_dir=tmp_path, max_concurrency=2) as running:
        warmed = running.stack.warm_talk_path()
        functions = ("send-audio", "transcription-worker", "translate-segment")
        assert warmed == {f"speech-broadcast-local-{function}": 2 for function in functions}
        assert [entry["recognizer"] for entry in warmed_up("transcription-worker")] == ["en", "en"]
        assert [entry["warmed"] for entry in warmed_up("translate-segment")] == ["fr", "fr"]
        assert all(entry["cold_start"] for entry in warmed_up("send-audio"))  # each its environment's first
        assert running.stack.warm_talk_path() == dict.fromkeys(warmed, 0)  # they are there


def test_idle_connection_is_closed_and_disconnected(deployed_local):
    with RunningPlatform(deployed_local["endpoint"], idle_timeout=1.5) as short:
        with connect(f"{short.url}?role=listener") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1001


def test_schedules_run_at_their_rate(deployed_local):
    with RunningPlatform(deployed_local["endpoint"], schedule_interval=1) as fast:
        # A new platform's first periodic run also tends to what earlier platforms left in this worker's emulator:
        # sessions whose speakers' connections vanished with them, each told to its listeners and marked away.
        # 30 of them took that run 6 s on a quiet machine; a CI run on loaded cores once met no status within 20 s,
        # which this would explain. The rate is measured from the end of that run.
        # Looked up by name: the pool's threads add each function's first count to this Counter meanwhile.
        (periodic,) = (
            function_name(s["function"])
            for s in fast.stack.deployment.schedules
            if function_name(s["function"]).endswith("-publish-periodic-status")
        )
        invocations = fast.stack.usage.invocations.requests
        eventually(
            lambda: invocations[periodic] > 0,
            timeout=120,
            interval=0.2,
            what="the platform's first periodic-status run",
        )
        with connect(f"{fast.url}?role=speaker&token={local_auth.token()}") as spk:
            create_session(spk)
            status = receive(spk, "sessionStatus", timeout=20)
            while status["updateReason"] != "periodic":
                status = receive(spk, "sessionStatus", timeout=20)
            assert status["listenerCount"] == 0


def test_route_missing_from_the_deployed_api_fails_locally_as_on_aws(deployed_local):
    """An API deployed without the `heartbeat` route: served, the action lands on $default, as on AWS.

    The local runtime serves the routes the emulator's API has, not platform.json's: a copy of the deployed API
    less that route stands for a deployment whose platform.json lacked it (that Terraform deploys exactly
    platform.json's routes is `test_terraform.py`'s part), without a second apply."""
    apigw = emulator_client("apigatewayv2", deployed_local["endpoint"])
    (deployed,) = [a for a in apigw.get_apis()["Items"] if a.get("ProtocolType") == "WEBSOCKET"]
    copy = apigw.create_api(
        Name=f"{deployed['Name']}-without-heartbeat",
        ProtocolType="WEBSOCKET",
        RouteSelectionExpression=deployed["RouteSelectionExpression"],
    )
    try:
        integrations = {
            integration["IntegrationId"]: apigw.create_integration(
                ApiId=copy["ApiId"],
                IntegrationType=integration["IntegrationType"],
                IntegrationUri=integration["IntegrationUri"],
            )["IntegrationId"]
            for integration in apigw.get_integrations(ApiId=deployed["ApiId"])["Items"]
        }
        authorizers: dict[str, str] = {}

        def authorizer_of(authorizer_id: str) -> str:
            """The copy of one of the deployed API's authorizers (the emulator does not list them)."""
            if authorizer_id not in authorizers:
                authorizer = apigw.get_authorizer(ApiId=deployed["ApiId"], AuthorizerId=authorizer_id)
                authorizers[authorizer_id] = apigw.create_authorizer(
                    ApiId=copy["ApiId"],
                    Name=authorizer["Name"],
                    AuthorizerType=authorizer["AuthorizerType"],
                    AuthorizerUri=authorizer["AuthorizerUri"],
                    IdentitySource=authorizer["IdentitySource"],
                )["AuthorizerId"]
            return authorizers[authorizer_id]

        for route in apigw.get_routes(ApiId=deployed["ApiId"])["Items"]:
            if route["RouteKey"] == "heartbeat":
                continue
            target = integrations[route["Target"].removeprefix("integrations/")]
            authorizer = {"AuthorizerId": authorizer_of(route["AuthorizerId"])} if route.get("AuthorizerId") else {}
            apigw.create_route(
                ApiId=copy["ApiId"],
                RouteKey=route["RouteKey"],
                Target=f"integrations/{target}",
                AuthorizationType=route.get("AuthorizationType", "NONE"),
                **authorizer,
            )
        with RunningPlatform(deployed_local["endpoint"], api_name=copy["Name"]) as without:
            assert "heartbeat" not in without.stack.deployment.routes
            assert "createSession" in without.stack.deployment.routes
            assert without.stack.deployment.authorizer is not None
            with listener(without) as ws:
                send(ws, action="heartbeat")
                error = receive(ws, "error")
                assert error["code"] == "UNKNOWN_ACTION"
                assert error["details"] == {"action": "heartbeat"}
    finally:
        apigw.delete_api(ApiId=copy["ApiId"])


def test_serve_command_prints_url_and_token_and_ctrl_c_stops_everything(deployed_local):
    port = free_port()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": deployed_local["endpoint"],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local_runtime", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = []
        while not lines or not lines[-1].startswith("serving"):
            line = process.stdout.readline()
            assert line, f"serve exited early: {lines}"
            lines.append(line.strip())
        token = process.stdout.readline().strip()
        with connect(f"ws://127.0.0.1:{port}/local?role=speaker&token={token}") as spk:
            assert create_session(spk)
        workers = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        assert workers, "functions run in worker processes"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    for pid in workers:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_a_flood_of_unknown_actions_is_throttled_at_the_gateway_and_other_routes_still_answer(deployed_local):
    """The stage's route throttle ($default 20/s, burst 50) is applied as API Gateway applies it: beyond it the
    function is never invoked and the client gets the gateway's own `Too Many Requests`."""
    with RunningPlatform(deployed_local["endpoint"]) as fresh, listener(fresh) as flooder, listener(fresh) as other:
        for n in range(120):
            send(flooder, action=f"nope{n}")
        eventually(
            lambda: json.loads(flooder.recv(timeout=30)).get("message") == "Too Many Requests",
            timeout=60,
            interval=0,
            what="the gateway's Too Many Requests",
        )
        send(other, action="heartbeat")
        # a fresh runtime: the heartbeat function's first environment starts now (slow on a loaded machine)
        assert receive(other, "heartbeatAck", timeout=120)["type"] == "heartbeatAck"
