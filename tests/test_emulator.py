"""The moto server `make dev` starts and keeps: which instance answers, so its state is trusted only there, and
what a local apply does when the state is not known to match it."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.config import Config

from broadcast_tools import emulator, terraform
from broadcast_tools.artifacts import ROOT
from tests.support.aws_emulator import REGION
from tests.support.deployment import emulator_client
from tests.support.ports import free_port
from tests.support.terminal import as_in_a_terminal
from tests.support.waiting import eventually


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setattr(emulator, "STATE", tmp_path)
    yield tmp_path
    for pid_file in tmp_path.glob("moto-*.pid"):
        emulator.stop(int(pid_file.stem.removeprefix("moto-")))


def test_a_restarted_moto_server_is_another_emulator_instance(state):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    assert emulator.instance(endpoint) is None, "nothing started yet"
    emulator.start_moto(port, detach=True)
    first = emulator.instance(endpoint)
    assert first is not None and first == emulator.instance(endpoint)
    assert emulator.instance(f"http://127.0.0.1:{free_port()}") is None, "another port is another emulator"
    pid = (state / f"moto-{port}.pid").read_text()
    assert emulator.stop(port)
    # stop returns once the server has exited and let go of its port (make emulator-stop && make dev)
    assert emulator.process_started(pid) is None and not emulator.reachable(endpoint)
    emulator.start_moto(port, detach=True)
    second = emulator.instance(endpoint)
    assert second is not None and second != first


def test_an_emulator_this_tool_did_not_start_has_no_known_instance(state):
    port = free_port()
    server = emulator.start_moto(port, detach=False)
    try:
        assert emulator.instance(f"http://127.0.0.1:{port}") is None
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_dynamodb_conditional_writes_and_transactions_are_atomic_under_concurrent_requests(state):
    """moto's DynamoDB, unlocked, let two conditional puts of one key both succeed and failed transactions beside
    other writes with a 500; the server ``make dev`` starts answers DynamoDB one request at a time."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    emulator.start_moto(port, detach=True)
    dynamodb = emulator_client("dynamodb", endpoint, Config(retries={"max_attempts": 1}, max_pool_connections=64))
    dynamodb.create_table(
        TableName="race",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(500):  # a transaction copies the table to roll back from: a larger table races longer
        dynamodb.put_item(TableName="race", Item={"pk": {"S": f"filler-{i}"}})

    def claim(slot: int) -> bool:
        try:
            dynamodb.put_item(
                TableName="race", Item={"pk": {"S": f"slot-{slot}"}}, ConditionExpression="attribute_not_exists(pk)"
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def transact(n: int) -> None:
        dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": "race", "Item": {"pk": {"S": f"tx-{n}"}}}}])

    def put(n: int) -> None:
        dynamodb.put_item(TableName="race", Item={"pk": {"S": f"put-{n}"}})

    with ThreadPoolExecutor(max_workers=32) as pool:
        claims = [pool.submit(claim, slot) for slot in range(40) for _ in range(4)]
        writes = [pool.submit(transact, n) for n in range(60)] + [pool.submit(put, n) for n in range(200)]
        failed = [str(write.exception()) for write in writes if write.exception() is not None]
        won = sum(claim.result() for claim in claims)
    assert failed == []
    assert won == 40, "each slot claimed exactly once"


def test_a_mappings_function_is_left_for_the_local_runtime_to_invoke(state):
    """moto invoked an event source mapping's function itself (in Docker, which fails here) at every send, after
    receiving the queue's visible messages: their receive count grew at every send, towards the dead-letter queue."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    emulator.start_moto(port, detach=True)
    sqs, kinesis, lambda_ = (emulator_client(name, endpoint) for name in ("sqs", "kinesis", "lambda"))
    role = emulator_client("iam", endpoint).create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("h.py", "def handler(event, context):\n    return {}\n")
    lambda_.create_function(
        FunctionName="f", Runtime="python3.12", Role=role, Handler="h.handler", Code={"ZipFile": code.getvalue()}
    )
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    kinesis.create_stream(StreamName="s", ShardCount=1)
    stream_arn = kinesis.describe_stream(StreamName="s")["StreamDescription"]["StreamARN"]
    for source in (queue_arn, stream_arn):
        lambda_.create_event_source_mapping(EventSourceArn=source, FunctionName="f", StartingPosition="LATEST")
    assert len(lambda_.list_event_source_mappings(FunctionName="f")["EventSourceMappings"]) == 2

    for n in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=str(n))
        kinesis.put_record(StreamName="s", Data=b"audio", PartitionKey="p")
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"])
    assert [(m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in received["Messages"]] == [
        ("0", "1"),
        ("1", "1"),
        ("2", "1"),
    ]
    assert "docker" not in (state / f"moto-{port}.log").read_text(errors="replace")


#: in Linux's ``struct tcp_info`` (``TCP_INFO``): ``tcpi_data_segs_in``, how many segments with data a socket received
TCPI_DATA_SEGS_IN = 152
#: a DynamoDB ``ListTables`` as a client sends it (moto reads the service from the credential's scope), its body apart
LIST_TABLES = (
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"
    b"Content-Type: application/x-amz-json-1.0\r\nAuthorization: AWS4-HMAC-SHA256 "
    b"Credential=test/20261207/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0\r\n"
    b"Content-Length: 2\r\n"
)


def _answer(connection: socket.socket) -> bytes:
    answer = b""
    while chunk := connection.recv(65536):  # the server closes the connection after its answer
        answer += chunk
    return answer


@pytest.mark.skipif(not hasattr(socket, "TCP_INFO"), reason="TCP_INFO is Linux's")
def test_each_response_reaches_the_client_in_one_piece(state):
    """werkzeug wrote a response's headers and its body apart; Terraform's provider, about once in a thousand
    requests, closed the connection having read only the headers and sent the request again (a create then met
    itself). The server ``make dev`` starts sends status line, headers and body in one write: one segment."""
    port = free_port()
    emulator.start_moto(port, detach=True)
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(LIST_TABLES + b"\r\n{}")
            answer = _answer(connection)
            info = connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b'{"TableNames": []}')
        assert int.from_bytes(info[TCPI_DATA_SEGS_IN : TCPI_DATA_SEGS_IN + 4], sys.byteorder) == 1


def test_a_client_expecting_100_continue_gets_it_before_it_sends_the_body(state):
    """The answer is buffered, the ``100 Continue`` is not: a client waiting for it is not kept waiting."""
    port = free_port()
    emulator.start_moto(port, detach=True)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(LIST_TABLES + b"Expect: 100-continue\r\n\r\n")
        connection.settimeout(2)
        assert connection.recv(65536).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        connection.settimeout(10)
        connection.sendall(b"{}")
        answer = _answer(connection).removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n")  # werkzeug writes it again
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b'{"TableNames": []}')


def _workdir_in_step_with(directory, instance: str) -> None:
    (directory / "terraform.tfstate").write_text("{}")
    (directory / terraform.APPLIED_TO).write_text(instance)


def _log_groups(endpoint: str) -> list[str]:
    logs = emulator_client("logs", endpoint)
    return [group["logGroupName"] for group in logs.describe_log_groups()["logGroups"]]


@pytest.fixture
def ours(state):
    """A moto server this tool started detached, holding one resource, and a working directory."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    emulator.start_moto(port, detach=True)
    emulator_client("logs", endpoint).create_log_group(logGroupName="/aws/lambda/left-behind")
    directory = state / "workdir"
    directory.mkdir()
    return endpoint, directory


def test_a_state_applied_into_this_emulator_is_kept(ours):
    endpoint, directory = ours
    _workdir_in_step_with(directory, emulator.instance(endpoint))
    sync = terraform.sync_local(directory, endpoint)
    assert sync.in_step and not sync.reset
    assert (directory / "terraform.tfstate").exists()
    assert _log_groups(endpoint) == ["/aws/lambda/left-behind"]


@pytest.mark.parametrize(
    ("history", "done"),
    [
        ("interrupted apply", "started a new moto server there"),
        ("applied into another emulator", "emptied it"),
        ("no record", "emptied it"),
        ("stale state lock", "started a new moto server there"),
    ],
)
def test_a_state_not_known_to_match_empties_our_emulator_and_drops_the_state(ours, history, done, capsys):
    endpoint, directory = ours
    _workdir_in_step_with(directory, emulator.instance(endpoint))
    if history == "interrupted apply":  # a marker whose process is gone
        (directory / terraform.APPLYING).write_text("999999999 1")
    elif history == "applied into another emulator":
        (directory / terraform.APPLIED_TO).write_text("moto pid 1 started 1 at http://127.0.0.1:1")
    elif history == "no record":
        (directory / terraform.APPLIED_TO).unlink()
    else:
        (directory / terraform.APPLYING).write_text("999999999 1")
        (directory / terraform.STATE_LOCK_INFO).write_text('{"ID": "stale"}')
    sync = terraform.sync_local(directory, endpoint)
    assert sync.reset and not sync.in_step
    assert f"{done}, applying afresh" in capsys.readouterr().out, "the dropped state is reported"
    assert _log_groups(endpoint) == []
    assert not [path.name for path in directory.iterdir()], "state, record, marker and lock info are dropped"


def test_a_first_apply_empties_our_emulator_without_reporting_a_state_dropped(ours, capsys):
    """A fresh checkout's first `make dev` has no state: nothing to tell its newcomer about."""
    endpoint, directory = ours
    sync = terraform.sync_local(directory, endpoint)
    assert sync.reset and "applying afresh" not in capsys.readouterr().out
    assert _log_groups(endpoint) == []


def test_an_apply_running_in_the_working_directory_is_not_disturbed(ours):
    endpoint, directory = ours
    _workdir_in_step_with(directory, "another instance")
    with subprocess.Popen(["sleep", "30"]) as other:
        (directory / terraform.APPLYING).write_text(f"{other.pid} {emulator.process_started(other.pid)}")
        try:
            with pytest.raises(SystemExit, match=f"another terraform apply ENV=local .* \\(kill {other.pid}\\)"):
                terraform.sync_local(directory, endpoint, wait=1)
        finally:
            other.kill()
    assert _log_groups(endpoint) == ["/aws/lambda/left-behind"]


def test_the_terraform_of_an_apply_whose_process_was_killed_is_waited_for(ours):
    """An apply killed outright leaves its terraform running in its own process group: still creating resources."""
    endpoint, directory = ours
    _workdir_in_step_with(directory, "another instance")
    with subprocess.Popen(["sleep", "30"], process_group=0) as terraform_left:
        (directory / terraform.APPLYING).write_text(f"999999999 1 {terraform_left.pid}")
        try:
            with pytest.raises(SystemExit, match=f"\\(kill -- -{terraform_left.pid}\\)"):
                terraform.sync_local(directory, endpoint, wait=1)
        finally:
            terraform_left.kill()
    assert _log_groups(endpoint) == ["/aws/lambda/left-behind"]


def test_an_earlier_apply_that_stops_is_waited_for_then_its_leftovers_emptied(ours, capsys):
    endpoint, directory = ours
    _workdir_in_step_with(directory, emulator.instance(endpoint))
    with subprocess.Popen(["sleep", "2"]) as stopping:
        (directory / terraform.APPLYING).write_text(f"{stopping.pid} {emulator.process_started(stopping.pid)}")
        sync = terraform.sync_local(directory, endpoint, wait=60)
        assert stopping.poll() is not None, "the emulator was emptied while the earlier apply still ran"
    assert "waiting for the earlier terraform apply" in capsys.readouterr().out
    assert sync.reset
    assert _log_groups(endpoint) == []


def test_an_emulator_this_tool_did_not_start_is_never_emptied(state):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = emulator.start_moto(port, detach=False)
    try:
        emulator_client("logs", endpoint).create_log_group(logGroupName="/aws/lambda/theirs")
        directory = state / "workdir"
        directory.mkdir()
        (directory / terraform.APPLYING).write_text("999999999 1")
        sync = terraform.sync_local(directory, endpoint)
        assert sync.instance is None and not sync.reset and not sync.in_step
        assert _log_groups(endpoint) == ["/aws/lambda/theirs"]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_server_recorded_in_the_single_pid_file_of_earlier_versions_is_still_ours(state):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    emulator.start_moto(port, detach=True)
    (state / f"moto-{port}.pid").replace(state / "moto.pid")
    assert emulator.instance(endpoint) is not None
    assert emulator.stop_all() == [port]


#: A terraform as far as Ctrl-C goes: it starts a provider, and stops gracefully (one second) on an interrupt, leaving
#: the provider behind, as a killed terraform does.
GRACEFUL_TERRAFORM = """
import pathlib, signal, subprocess, sys, time
here = pathlib.Path(sys.argv[1])
provider = subprocess.Popen(["sleep", "600"])
(here / "provider").write_text(str(provider.pid))
def stop(*_):
    time.sleep(1)
    (here / "interrupts").write_text("1" if not (here / "interrupts").exists() else "2")
    sys.exit(1)
signal.signal(signal.SIGINT, stop)
(here / "ready").write_text("")
time.sleep(600)
"""


def test_ctrl_c_lets_terraform_stop_gracefully_then_kills_what_it_left(tmp_path):
    """Ctrl-C reaches the terminal's process group: the tool running terraform, not terraform, which the tool
    interrupts once and waits for; no provider of it outlives it to create resources behind the next apply."""
    (tmp_path / "terraform.py").write_text(GRACEFUL_TERRAFORM)
    driver = (
        "import os, sys\n"
        "from broadcast_tools import terraform\n"
        f"terraform._run([sys.executable, {str(tmp_path / 'terraform.py')!r}, {str(tmp_path)!r}], "
        f"__import__('pathlib').Path({str(tmp_path)!r}), dict(os.environ), quiet=True)\n"
    )
    environ = {**os.environ, "PYTHONPATH": str(ROOT / "tools")}
    with subprocess.Popen(
        [sys.executable, "-c", driver], env=environ, stderr=subprocess.PIPE, text=True, preexec_fn=as_in_a_terminal
    ) as tool:
        eventually(lambda: (tmp_path / "ready").exists(), timeout=30, interval=0.05, what="terraform started")
        tool.send_signal(signal.SIGINT)
        _, errors = tool.communicate(timeout=30)
    assert (tmp_path / "interrupts").read_text() == "1", "terraform was not interrupted once and waited for"
    assert "Ctrl-C: terraform is stopping" in errors
    assert "KeyboardInterrupt" in errors, "the interrupt goes on to the tool's caller"
    provider = int((tmp_path / "provider").read_text())
    eventually(lambda: emulator.process_started(provider) is None, timeout=10, interval=0.05, what="provider gone")


def test_calls_an_interrupted_apply_left_in_flight_never_reach_the_emptied_emulator(ours):
    """An interrupted apply's provider cancels its calls, but their requests were sent: one the server finishes after
    being emptied creates its resource there (`CreateRole … already exists` on the next apply). The server is
    replaced instead, so what the old one was sent never lands."""
    endpoint, directory = ours
    _workdir_in_step_with(directory, emulator.instance(endpoint))
    (directory / terraform.APPLYING).write_text("999999999 1")
    before = emulator.instance(endpoint)
    body = b'{"logGroupName": "/aws/lambda/in-flight"}'
    in_flight = socket.create_connection(("127.0.0.1", int(endpoint.rsplit(":", 1)[1])))
    head = (
        f"POST / HTTP/1.1\r\nHost: logs.{REGION}.amazonaws.com\r\nContent-Type: application/x-amz-json-1.1\r\n"
        "X-Amz-Target: Logs_20140328.CreateLogGroup\r\n"
        f"Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/{REGION}/logs/aws4_request, SignedHeaders=host, "
        f"Signature=0\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    in_flight.sendall(head.encode() + body[:10])
    sync = terraform.sync_local(directory, endpoint)
    with contextlib.suppress(OSError), in_flight:  # the rest of the request, after the emulator was emptied
        in_flight.sendall(body[10:])
        in_flight.settimeout(10)
        in_flight.recv(1024)
    assert _log_groups(endpoint) == []
    assert sync.reset and sync.instance == emulator.instance(endpoint) != before


#: a terraform whose first ``FAILING_APPLIES`` applies fail with ``FAILURE`` (a create sent twice, as Terraform prints
#: it, or another error); it writes down each command it ran, and the import blocks each apply found
FAILING_TERRAFORM = """#!/bin/sh
echo "$@" >> commands
[ "$1" = apply ] || exit 0
cat created_twice_imports.tf >> imports 2>/dev/null
if [ "$(grep -c '^apply' commands)" -le "$FAILING_APPLIES" ]; then printf '%s\\n' "$FAILURE"; exit 1; fi
echo "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
"""


def _failing_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str, failing: int) -> Path:
    """Put ``FAILING_TERRAFORM`` first on PATH, failing ``failing`` applies with ``failure``: the local working
    directory it runs in."""
    fake = tmp_path / "bin" / "terraform"
    fake.parent.mkdir()
    fake.write_text(FAILING_TERRAFORM)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    monkeypatch.setenv("FAILURE", failure)
    monkeypatch.setenv("FAILING_APPLIES", str(failing))
    return terraform.workdir("local", base=tmp_path / "workdirs")


def _applies(directory: Path) -> list[list[str]]:
    """The applies the stand-in terraform ran in ``directory``, each as its arguments."""
    return [command.split() for command in (directory / "commands").read_text().splitlines() if command[:6] == "apply "]


#: the end of a real `make dev` apply that met a create sent twice (2026-12-07), colours and box drawing as printed
PRINTED_CREATED_TWICE = (
    "\x1b[31m╷\x1b[0m\x1b[0m\n"
    "\x1b[31m│\x1b[0m \x1b[0m\x1b[1m\x1b[31mError: \x1b[0m\x1b[0m\x1b[1mcreating IAM Role "
    "(speech-broadcast-local-send-audio): operation error IAM: CreateRole, https response error StatusCode: 409, "
    "RequestID: WKdq, EntityAlreadyExists: Role with name speech-broadcast-local-send-audio already exists.\x1b[0m\n"
    "\x1b[31m│\x1b[0m \x1b[0m\n"
    '\x1b[31m│\x1b[0m \x1b[0m\x1b[0m  with module.function["send_audio"].aws_iam_role.this,\n'
    "\x1b[31m│\x1b[0m \x1b[0m  on ../../infrastructure/modules/lambda_function/main.tf line 26, in resource "
    '"aws_iam_role" "this":\n'
    "\x1b[31m╵\x1b[0m\x1b[0m\n"
)


@pytest.mark.parametrize("failing", [1, 2], ids=["imported", "twice again"])
def test_a_create_sent_twice_is_imported_and_the_apply_goes_on_in_the_same_server(
    ours, tmp_path, monkeypatch, capsys, failing
):
    endpoint, _ = ours
    directory = _failing_terraform(tmp_path, monkeypatch, PRINTED_CREATED_TWICE, failing)
    before = emulator.instance(endpoint)
    emptied_just_before = terraform.LocalSync(before, in_step=False, reset=True)
    code = terraform.run("local", "apply", [], None, endpoint, base=tmp_path / "workdirs", sync=emptied_just_before)

    assert code == 0
    applies = _applies(directory)
    assert (directory / "imports").read_text() == (
        'import {\n  to = module.function["send_audio"].aws_iam_role.this\n'
        '  id = "speech-broadcast-local-send-audio"\n}\n'
    ), "the second apply, and it alone, found the import block"
    assert not (directory / terraform.CREATED_TWICE_IMPORTS).exists()
    assert "-refresh=false" in applies[1], "the state was written into this very server"
    shown = capsys.readouterr().err
    assert 'taking module.function["send_audio"].aws_iam_role.this into the state' in shown
    if failing == 1:  # the rest of the apply, into the same server
        assert len(applies) == 2 and emulator.instance(endpoint) == before
    else:  # as before: everything again, into a new server, without the import
        assert len(applies) == 3 and "-refresh=false" not in applies[2]
        assert "applying once more, into a new moto server" in shown
        assert emulator.instance(endpoint) != before
    assert (directory / terraform.APPLIED_TO).read_text() == emulator.instance(endpoint)


def test_only_creates_of_resources_imported_by_name_are_taken_into_the_state():
    assert terraform.created_twice_by_name(PRINTED_CREATED_TWICE) == [
        ('module.function["send_audio"].aws_iam_role.this', "speech-broadcast-local-send-audio")
    ]
    queue = PRINTED_CREATED_TWICE.replace("aws_iam_role.this", "aws_sqs_queue.this")
    assert terraform.created_twice_by_name(queue) == [], "a queue's import id is its URL, not the name in the error"
    unexplained = PRINTED_CREATED_TWICE + "Error: creating Lambda Function (x): StatusCode: 409\n"
    assert terraform.created_twice_by_name(unexplained) == [], "an error without its resource's address"
    other = PRINTED_CREATED_TWICE.replace("StatusCode: 409", "StatusCode: 400").replace("already exists", "is invalid")
    assert terraform.created_twice_by_name(PRINTED_CREATED_TWICE + other) == [], "another error beside it"
    assert terraform.created_twice_by_name(CREATED_TWICE) == [], "no address at all"


CREATED_TWICE = (
    "Error: creating IAM Role (speech-broadcast-local-set-volume): operation error IAM: CreateRole, https response "
    "error StatusCode: 409, RequestID: 34yZ, EntityAlreadyExists: Role with name speech-broadcast-local-set-volume "
    "already exists."
)


@pytest.mark.parametrize(
    ("failure", "failing", "applies", "code"),
    [
        (CREATED_TWICE, 1, 2, 0),  # the provider sent a create twice: once more, into a new server, which serves
        (CREATED_TWICE, 2, 2, 1),  # only once more
        ('Error: Unsupported argument: An argument named "colour" is not expected here.', 1, 1, 1),  # not an emulator's
    ],
    ids=["created twice, then applied", "created twice, twice", "a configuration error"],
)
# make dev applies quietly (terraform's output shown only when it fails); make apply ENV=local shows it as it comes
@pytest.mark.parametrize("quiet", [True, False], ids=["make dev", "make apply"])
def test_an_apply_that_met_what_it_had_just_created_runs_once_more_into_a_new_server(
    ours, tmp_path, monkeypatch, capsys, failure, failing, applies, code, quiet
):
    endpoint, _ = ours
    directory = _failing_terraform(tmp_path, monkeypatch, failure, failing)
    before = emulator.instance(endpoint)
    emptied_just_before = terraform.LocalSync(before, in_step=False, reset=True)

    assert (
        terraform.run(
            "local", "apply", [], None, endpoint, base=tmp_path / "workdirs", quiet=quiet, sync=emptied_just_before
        )
        == code
    )

    assert len(_applies(directory)) == applies
    retried = applies == 2
    shown = capsys.readouterr()
    assert ("applying once more, into a new moto server" in shown.err) is retried
    assert failure in (shown.err if quiet else shown.out)
    assert ("Apply complete!" in shown.out) is (code == 0 and not quiet)
    assert (emulator.instance(endpoint) != before) is retried
    assert (_log_groups(endpoint) == []) is retried, "a new server holds nothing of the old one"
    if code == 0:
        assert (directory / terraform.APPLIED_TO).read_text() == emulator.instance(endpoint)
        assert not (directory / terraform.APPLYING).exists()
    else:
        assert (directory / terraform.APPLYING).exists(), "the next make dev knows this apply did not finish"
