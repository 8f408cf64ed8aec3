"""`make verify` and `make drift` against a deployment in the emulator: clean first, then with
each kind of gap and drift introduced behind Terraform's back, each reported by name."""

from __future__ import annotations

import io
import zipfile

import pytest

from broadcast_tools.drift import detect
from broadcast_tools.terraform import provider_mirror
from broadcast_tools.verify import verify
from tests.support.deployment import apply_local, emulator_client

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(3.5)]

PREFIX = "speech-broadcast-local"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    yield from apply_local(tmp_path_factory.mktemp("operations"))


@pytest.fixture(scope="module")
def mirror():
    return provider_mirror()


@pytest.fixture(scope="module")
def clean_then_tampered(deployed, mirror):
    endpoint, base = deployed["endpoint"], deployed["workdirs"]
    clean = (verify("local", mirror, endpoint, base), detect("local", mirror, endpoint, base))

    api = emulator_client("apigatewayv2", endpoint)
    lambda_ = emulator_client("lambda", endpoint)
    (api_id,) = [a["ApiId"] for a in api.get_apis()["Items"] if a["Name"] == f"{PREFIX}-websocket"]
    routes = {r["RouteKey"]: r for r in api.get_routes(ApiId=api_id)["Items"]}
    api.delete_route(ApiId=api_id, RouteId=routes["heartbeat"]["RouteId"])
    api.update_route(ApiId=api_id, RouteId=routes["$connect"]["RouteId"], AuthorizationType="NONE")
    config = lambda_.get_function_configuration(FunctionName=f"{PREFIX}-set-volume")
    variables = dict(config["Environment"]["Variables"], CONTROL_RATE_PER_SECOND="1000")
    lambda_.update_function_configuration(FunctionName=f"{PREFIX}-set-volume", Environment={"Variables": variables})
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    lambda_.update_function_code(FunctionName=f"{PREFIX}-default", ZipFile=other.getvalue())
    emulator_client("dynamodb", endpoint).update_time_to_live(
        TableName=f"{PREFIX}-rate-limits", TimeToLiveSpecification={"Enabled": False, "AttributeName": "expiresAt"}
    )
    emulator_client("scheduler", endpoint).delete_schedule(Name=f"{PREFIX}-publish-periodic-status", GroupName=PREFIX)
    s3 = emulator_client("s3", endpoint)
    (bucket,) = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(f"{PREFIX}-site-")]
    s3.put_object(Bucket=bucket, Key="config.json", Body=b'{"webSocketUrl": "wss://elsewhere.example/prod"}')
    s3.delete_object(Bucket=bucket, Key="listener.html")
    tampered = (verify("local", mirror, endpoint, base), detect("local", mirror, endpoint, base))
    return clean, tampered


def test_a_clean_deployment_has_no_gaps_and_no_drift(clean_then_tampered):
    (audit, drift), _ = clean_then_tampered
    print(drift.text())
    assert audit.gaps == []
    assert audit.notes[1:] == ["stage deployment: not checked (this environment creates no deployment)"]
    assert (
        audit.notes[0].startswith("site: https://")
        and "not requested (the emulator serves no CloudFront)" in audit.notes[0]
    )
    assert drift.error is None and drift.resources == [] and drift.exit_code == 0


def test_verify_names_every_gap(clean_then_tampered):
    _, (audit, _) = clean_then_tampered
    gaps = "\n".join(audit.gaps)
    assert "route heartbeat: missing" in gaps
    assert "route $connect: no authorizer attached" in gaps
    assert f"function {PREFIX}-default: runs code" in gaps
    assert f"schedule for {PREFIX}-publish-periodic-status: missing" in gaps
    assert "listener.html does not answer" in gaps
    assert "site: config.json names wss://elsewhere.example/prod, not " in gaps
    assert "site: config.json signs in with another client than" in gaps
    assert len(audit.gaps) == 7


def test_drift_reports_each_resource_and_what_changed(clean_then_tampered):
    _, (_, drift) = clean_then_tampered
    assert drift.exit_code == 2
    by_address = {resource.address: resource for resource in drift.resources}
    report = drift.text()
    route = next(a for a in by_address if "aws_apigatewayv2_route" in a and '"heartbeat"' in a)
    assert by_address[route].kind == "deleted"
    volume = by_address['module.function["set_volume"].aws_lambda_function.this']
    assert any(
        c.attribute.endswith("CONTROL_RATE_PER_SECOND") and (c.before, c.after) == ("10", "1000")
        for c in volume.changes
    )
    table = by_address['module.tables.aws_dynamodb_table.this["rate-limits"]']
    assert any("ttl" in c.attribute and c.before is True and c.after is False for c in table.changes)
    schedule = next(a for a in by_address if "aws_scheduler_schedule" in a and "publish-periodic-status" in a)
    assert by_address[schedule].kind == "deleted"
    for address in (route, schedule):
        assert address in report
    assert 'CONTROL_RATE_PER_SECOND: "10" -> "1000"' in report
