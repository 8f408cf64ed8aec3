"""Terraform: fmt, validate, checkov, and `apply` of the local environment to a real moto server."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess

import pytest

from broadcast_shared.capacity import CapacityPlan, derive
from broadcast_tools import local_auth
from broadcast_tools.artifacts import ROOT
from broadcast_tools.platform_table import PlatformTable
from broadcast_tools.terraform import provider_mirror
from broadcast_tools.verify import terraform_outputs
from tests.support.deployment import emulator_client

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed"),
]
EXPECTED_ROUTES = set(PlatformTable.load().routes)
LOCAL_TFVARS = ROOT / "infrastructure/environments/local.tfvars"


def test_fmt_is_clean():
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "infrastructure"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, f"not fmt-clean: {result.stdout}"


def test_validate_passes_for_remote_and_local_environments():
    result = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-m", "broadcast_tools.terraform_validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("The configuration is valid") == 2


def test_checkov_passes():
    checkov = ROOT / ".venv-checkov/bin/checkov"
    result = subprocess.run(
        [str(checkov), "--config-file", ".checkov.yaml", "--directory", "infrastructure", "--quiet", "--compact"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def test_emulator_settings_never_reach_remote_environments():
    for tf in (ROOT / "infrastructure").glob("*.tf"):
        assert "endpoints" not in tf.read_text(), f"{tf.name} overrides endpoints outside environments/local"
    for tfvars in (ROOT / "infrastructure/environments").glob("*.tfvars"):
        if tfvars.stem != "local":
            assert "endpoint" not in tfvars.read_text()


def test_apply_creates_every_route_with_its_integration_and_function(deployed_local):
    api = emulator_client("apigatewayv2", deployed_local["endpoint"])
    lambda_ = emulator_client("lambda", deployed_local["endpoint"])
    (websocket,) = [a for a in api.get_apis()["Items"] if a["Name"] == "speech-broadcast-local-websocket"]
    assert websocket["ProtocolType"] == "WEBSOCKET"
    assert websocket["RouteSelectionExpression"] == "$request.body.action"
    routes = {r["RouteKey"]: r for r in api.get_routes(ApiId=websocket["ApiId"])["Items"]}
    assert set(routes) == EXPECTED_ROUTES
    integrations = {i["IntegrationId"]: i for i in api.get_integrations(ApiId=websocket["ApiId"])["Items"]}
    functions = {f["FunctionName"]: f for f in lambda_.list_functions()["Functions"]}
    for key, route in routes.items():
        integration = integrations[route["Target"].removeprefix("integrations/")]
        assert integration["IntegrationType"] == "AWS_PROXY"
        function_name = integration["IntegrationUri"].split(":function:")[1].split("/")[0]
        assert function_name in functions, f"{key} integrates with missing function {function_name}"
        assert functions[function_name]["Runtime"] == "python3.12"


def test_connect_route_uses_the_request_authorizer(deployed_local):
    api = emulator_client("apigatewayv2", deployed_local["endpoint"])
    (websocket,) = [a for a in api.get_apis()["Items"] if a["Name"] == "speech-broadcast-local-websocket"]
    routes = {r["RouteKey"]: r for r in api.get_routes(ApiId=websocket["ApiId"])["Items"]}
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    # (moto's GetAuthorizers fails with a 500; GetAuthorizer works.)
    authorizer = api.get_authorizer(ApiId=websocket["ApiId"], AuthorizerId=routes["$connect"]["AuthorizerId"])
    assert authorizer["AuthorizerUri"].endswith("speech-broadcast-local-authorizer/invocations")
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["route.request.querystring.role"]


def test_deployed_code_is_the_built_artifact(deployed_local):
    manifest = json.loads((ROOT / "dist" / "manifest.json").read_text())
    lambda_ = emulator_client("lambda", deployed_local["endpoint"])
    function = lambda_.get_function(FunctionName="speech-broadcast-local-create-session")["Configuration"]
    assert function["CodeSha256"] == manifest["artifacts"]["session-management"]["sha256"]
    assert function["Handler"] == "session_management.handlers.create_session.handler"
    assert function["Environment"]["Variables"]["SESSIONS_TABLE"] == "speech-broadcast-local-sessions"
    assert len(function["Layers"]) == 1


def test_tables_have_ttl_index_and_point_in_time_recovery(deployed_local):
    dynamodb = emulator_client("dynamodb", deployed_local["endpoint"])
    table = dynamodb.describe_table(TableName="speech-broadcast-local-connections")["Table"]
    (index,) = table["GlobalSecondaryIndexes"]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["sessionId", "targetLanguage"]
    ttl = dynamodb.describe_time_to_live(TableName="speech-broadcast-local-connections")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiresAt"
    backups = dynamodb.describe_continuous_backups(TableName="speech-broadcast-local-sessions")
    assert (
        backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
        == "ENABLED"
    )


def test_schedules_invoke_the_periodic_functions_at_their_rates(deployed_local):
    scheduler = emulator_client("scheduler", deployed_local["endpoint"])
    schedules = scheduler.list_schedules(GroupName="speech-broadcast-local")["Schedules"]
    details = {s["Name"]: scheduler.get_schedule(Name=s["Name"], GroupName="speech-broadcast-local") for s in schedules}
    assert {name: detail["ScheduleExpression"] for name, detail in details.items()} == {
        "speech-broadcast-local-publish-periodic-status": "rate(1 minute)",
        "speech-broadcast-local-sweep-idle-connections": "rate(1 minute)",
        "speech-broadcast-local-reconcile-counts": "rate(5 minutes)",
    }
    for name, detail in details.items():
        assert detail["Target"]["Arn"].endswith(f"function:{name}")


def test_test_tables_match_the_tables_terraform_creates(deployed_local):
    from tests.support.tables import TABLES

    dynamodb = emulator_client("dynamodb", deployed_local["endpoint"])
    for logical, spec in TABLES.items():
        table = dynamodb.describe_table(TableName=f"speech-broadcast-local-{logical}")["Table"]
        assert table["KeySchema"] == spec["KeySchema"]
        deployed_indexes = {i["IndexName"]: i["KeySchema"] for i in table.get("GlobalSecondaryIndexes", [])}
        assert deployed_indexes == {i["IndexName"]: i["KeySchema"] for i in spec.get("GlobalSecondaryIndexes", [])}


def test_audio_stream_feeds_the_worker_one_batch_per_shard_with_alarms(deployed_local):
    endpoint = deployed_local["endpoint"]
    kinesis = emulator_client("kinesis", endpoint)
    lambda_ = emulator_client("lambda", endpoint)
    cloudwatch = emulator_client("cloudwatch", endpoint)
    (name,) = [s for s in kinesis.list_streams()["StreamNames"] if s.endswith("-audio")]
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["EncryptionType"] == "KMS"
    (mapping,) = [
        m
        for m in lambda_.list_event_source_mappings()["EventSourceMappings"]
        if m["EventSourceArn"] == summary["StreamARN"]
    ]
    assert mapping["FunctionArn"].endswith("-transcription-worker")
    assert mapping["ParallelizationFactor"] == 1 and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(f":{name}-failures")
    # The worker reads past its batches: the mapping lags by design, and its records must not expire meanwhile.
    assert mapping["MaximumRecordAgeInSeconds"] == -1
    worker = lambda_.get_function_configuration(FunctionName=mapping["FunctionArn"])
    assert worker["Timeout"] == 900 and worker["Environment"]["Variables"]["TRANSCRIPTION_ENGINE"] == "pocketsphinx"
    alarms = {a["MetricName"] for a in cloudwatch.describe_alarms()["MetricAlarms"] if name in a["AlarmName"]}
    # the worker's own reader lag, and the last on its failures queue
    assert alarms == {"IteratorAge", "AudioReadBehindLatest", "Errors", "ApproximateNumberOfMessagesVisible"}


def test_every_function_and_the_api_have_alarms_that_reach_the_alarm_topic(deployed_local):
    endpoint = deployed_local["endpoint"]
    lambda_ = emulator_client("lambda", endpoint)
    cloudwatch = emulator_client("cloudwatch", endpoint)
    sns = emulator_client("sns", endpoint)
    (topic,) = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith("-local-alarms")]
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["KmsMasterKeyId"] == "alias/aws/sns"
    alarms = cloudwatch.describe_alarms(MaxRecords=100)["MetricAlarms"]
    assert alarms and all(topic in alarm["AlarmActions"] for alarm in alarms), "an alarm that notifies nobody"
    watched = {(a["MetricName"], d["Value"]) for a in alarms for d in a["Dimensions"] if d["Name"] == "FunctionName"}
    for function in lambda_.list_functions()["Functions"]:
        name = function["FunctionName"]
        assert ("Errors", name) in watched and ("Throttles", name) in watched, name
    api = {a["MetricName"] for a in alarms if a["Namespace"] == "AWS/ApiGateway"}
    assert api == {"ExecutionError", "IntegrationError"}
    application = {a["MetricName"] for a in alarms if a["Namespace"] == "SpeechBroadcast"}
    assert "FanOutFailed" in application
    # Throttling's degradations (docs/ARCHITECTURE.md, "Throttling")
    throttling = {
        "SpeechThrottled",
        "SpeechFallbacks",
        "SpeechSkipped",
        "TranslationsThrottled",
        "MessagesThrottled",
        "TranscriptionThrottled",
    }
    assert throttling <= application
    dashboard = cloudwatch.get_dashboard(DashboardName="speech-broadcast-local-talk")
    assert "IteratorAge" in dashboard["DashboardBody"] and "AudioReadBehindLatest" in dashboard["DashboardBody"]


def test_worker_forwards_to_the_deployed_translation_function_which_runs_the_local_engines(deployed_local):
    lambda_ = emulator_client("lambda", deployed_local["endpoint"])
    functions = {f["FunctionName"]: f for f in lambda_.list_functions()["Functions"]}
    worker = functions["speech-broadcast-local-transcription-worker"]["Environment"]["Variables"]
    target = functions[worker["TRANSLATION_FUNCTION_NAME"]]
    assert target["Handler"] == "translation_pipeline.handlers.translate_segment.handler"
    variables = target["Environment"]["Variables"]
    assert (variables["TRANSLATION_ENGINE"], variables["SPEECH_ENGINE"]) == ("apertium", "espeak")
    assert variables["TRANSLATION_CACHE_TABLE"] == "speech-broadcast-local-translation-cache"
    assert variables["TRANSCRIPTS_TABLE"] == "speech-broadcast-local-transcripts"
    assert variables["TRANSCRIPT_RETENTION_SECONDS"] == str(7 * 86400)  # transcript_retention_days' default


def test_sessions_per_user_limit_reaches_create_session_from_the_environment_variables(deployed_local):
    lambda_ = emulator_client("lambda", deployed_local["endpoint"])
    create = lambda_.get_function_configuration(FunctionName="speech-broadcast-local-create-session")
    # local.tfvars raises it from the default 10 for rehearsals
    assert create["Environment"]["Variables"]["MAX_SESSIONS_PER_USER_PER_HOUR"] == "120"


def test_create_session_warms_as_many_environments_of_each_function_as_platform_json_declares(deployed_local):
    from session_management.settings import SessionSettings

    lambda_ = emulator_client("lambda", deployed_local["endpoint"])
    create = lambda_.get_function_configuration(FunctionName="speech-broadcast-local-create-session")
    settings = SessionSettings.from_environment(create["Environment"]["Variables"])
    declared = PlatformTable.load().warm_ups["create_session"]
    assert settings.warm_up_functions == {
        f"speech-broadcast-local-{key.replace('_', '-')}": count for key, count in declared.items()
    }


#: the settings classes each profile's functions read (besides Powertools' own POWERTOOLS_* variables)
PROFILE_SETTINGS = {
    "session": ("session_management.settings:SessionSettings",),
    "scheduled": ("session_management.settings:SessionSettings",),
    "audio": ("broadcast_shared.config:RouteSettings", "audio_transcription.settings:AudioSettings"),
    "worker": ("broadcast_shared.config:Settings", "audio_transcription.settings:AudioSettings"),
    "translation": ("broadcast_shared.config:AudienceSettings", "translation_pipeline.settings:TranslationSettings"),
}
#: what a function reads beyond its profile's settings, every variable of it given (main.tf's ``function_variables``)
FUNCTION_SETTINGS = {
    "create_session": ("broadcast_shared.capacity:CapacitySettings",),
    "publish_periodic_status": ("broadcast_shared.capacity:CapacitySettings",),
}


def test_each_function_gets_only_the_variables_its_settings_read(deployed_local):
    lambda_ = emulator_client("lambda", deployed_local["endpoint"])
    deployed = {f["FunctionName"]: f["Environment"]["Variables"] for f in lambda_.list_functions()["Functions"]}
    table = PlatformTable.load()
    for key, function in table.functions.items():
        if function.profile not in PROFILE_SETTINGS:
            continue
        variables = deployed[f"speech-broadcast-local-{key.replace('_', '-')}"]
        # what the artifact's libraries need at start (platform.json), e.g. numpy's OpenBLAS one thread
        artifact_environment = table.artifacts[function.artifact].environment
        assert artifact_environment.items() <= variables.items(), f"{key} lacks its artifact's environment"
        read: set[str] = set()
        for path in (*PROFILE_SETTINGS[function.profile], *FUNCTION_SETTINGS.get(key, ())):
            module, _, name = path.partition(":")
            settings = getattr(importlib.import_module(module), name)
            settings.from_environment(variables)  # everything it needs is there, and valid
            names = {
                str(field.validation_alias or field_name).upper() for field_name, field in settings.model_fields.items()
            }
            if path in FUNCTION_SETTINGS.get(key, ()):
                assert names <= variables.keys(), f"{key} lacks {sorted(names - variables.keys())}"
            read |= names
        unread = {name for name in variables if not name.startswith("POWERTOOLS_")} - read - set(artifact_environment)
        assert not unread, f"{key} is given variables it never reads: {sorted(unread)}"


def test_each_function_may_call_only_what_it_needs(deployed_local):
    iam = emulator_client("iam", deployed_local["endpoint"])
    lambda_ = emulator_client("lambda", deployed_local["endpoint"])

    def grants(function: str) -> set[tuple[str, str]]:
        """(action, resource) pairs of the function's role, its own logs and tracing left out."""
        role = lambda_.get_function_configuration(FunctionName=f"speech-broadcast-local-{function}")["Role"]
        name = role.rsplit("/", 1)[1]
        granted = set()
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
            document = json.loads(document) if isinstance(document, str) else document
            for statement in document["Statement"]:
                names, resources = statement["Action"], statement["Resource"]
                for action in [names] if isinstance(names, str) else names:
                    for resource in [resources] if isinstance(resources, str) else resources:
                        granted.add((action, resource))
        return {(a, r) for a, r in granted if not a.startswith(("logs:", "xray:"))}

    def actions(function: str, table: str = "") -> set[str]:
        return {a for a, r in grants(function) if r.endswith(f"-{table}") or not table}

    assert actions("connect") == {"dynamodb:PutItem"}
    assert actions("authorizer") == set()
    for function in ("join-session", "heartbeat", "default", "disconnect", "send-audio", "translate-segment"):
        for table in ("sessions", "connections"):
            granted = actions(function, table)
            assert "dynamodb:Scan" not in granted and "dynamodb:PutItem" not in granted, (function, table)
    assert "dynamodb:Scan" in actions("publish-periodic-status", "sessions")
    assert "dynamodb:Scan" in actions("sweep-idle-connections", "connections")
    assert "dynamodb:Scan" in actions("sweep-idle-connections", "sessions")
    assert "dynamodb:Scan" in actions("reconcile-counts", "sessions")
    assert "dynamodb:PutItem" in actions("create-session", "sessions")
    # createSession warms the audio path and may invoke nothing else.
    assert {r.rsplit(":", 1)[1] for a, r in grants("create-session") if a.startswith("lambda:")} == {
        "speech-broadcast-local-send-audio",
        "speech-broadcast-local-transcription-worker",
    }
    assert {r.rsplit(":", 1)[1] for a, r in grants("join-session") if a.startswith("lambda:")} == {
        "speech-broadcast-local-translate-segment"
    }
    assert not actions("translate-segment", "rate-limits") and not actions("disconnect", "rate-limits")
    # The transcripts: only the pipeline writes them (one conditional put per final), only getTranscript reads.
    # Beside them, the audience samples (a conditional update) and the report after the talk.
    functions = {f["FunctionName"] for f in lambda_.list_functions()["Functions"]}
    readers_and_writers = {
        function.removeprefix("speech-broadcast-local-"): actions(
            function.removeprefix("speech-broadcast-local-"), "transcripts"
        )
        for function in functions
    }
    assert {f: a for f, a in readers_and_writers.items() if a} == {
        "translate-segment": {"dynamodb:PutItem"},
        "get-transcript": {"dynamodb:Query"},
        "join-session": {"dynamodb:UpdateItem"},
        "change-language": {"dynamodb:UpdateItem"},
        "publish-periodic-status": {"dynamodb:UpdateItem"},
        "end-session": {"dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:PutItem"},
    }
    # Each audio shard's read position: the worker's alone.
    positions = {function: actions(function, "shard-positions") for function in readers_and_writers}
    assert {f: a for f, a in positions.items() if a} == {
        "transcription-worker": {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    }
    # The control queue: the control routes leave follow-ups, its consumer the next window's, and the worker one
    # when captions are held back for Transcribe's quota and one when they flow again.
    senders = {
        function
        for function in readers_and_writers
        if any(a == "sqs:SendMessage" and r.endswith("-control") for a, r in grants(function))
    }
    assert senders == {
        *(f"{control}-broadcast" for control in ("pause", "resume", "mute", "unmute")),
        "set-volume",
        "set-questions",
        "publish-broadcast-state",
        "transcription-worker",
    }


def test_stream_and_async_functions_have_reserved_concurrency_and_routes_their_own_throttles(deployed_local):
    lambda_ = emulator_client("lambda", deployed_local["endpoint"])
    api = emulator_client("apigatewayv2", deployed_local["endpoint"])
    for function in ("transcription-worker", "translate-segment", "publish-periodic-status"):
        reserved = lambda_.get_function_concurrency(FunctionName=f"speech-broadcast-local-{function}")
        assert reserved.get("ReservedConcurrentExecutions", 0) >= 1, function
    (stage,) = [s for a in api.get_apis()["Items"] for s in api.get_stages(ApiId=a["ApiId"])["Items"]]
    settings = stage["RouteSettings"]
    assert settings["createSession"]["ThrottlingRateLimit"] == 10
    assert settings["$default"]["ThrottlingRateLimit"] < stage["DefaultRouteSettings"]["ThrottlingRateLimit"]


def test_every_asynchronously_invoked_function_keeps_its_failed_events_on_an_alarmed_queue(deployed_local):
    endpoint = deployed_local["endpoint"]
    lambda_ = emulator_client("lambda", endpoint)
    sqs = emulator_client("sqs", endpoint)
    iam = emulator_client("iam", endpoint)
    scheduler = emulator_client("scheduler", endpoint)
    cloudwatch = emulator_client("cloudwatch", endpoint)
    alarmed = {
        d["Value"]
        for a in cloudwatch.describe_alarms(MaxRecords=100)["MetricAlarms"]
        if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
        for d in a["Dimensions"]
        if d["Name"] == "QueueName"
    }
    table = PlatformTable.load()
    assert table.asynchronous >= {"translate_segment", "sweep_idle_connections"}
    for key in table.asynchronous:
        name = f"speech-broadcast-local-{key.replace('_', '-')}"
        config = lambda_.get_function_event_invoke_config(FunctionName=name)
        queue_arn = config["DestinationConfig"]["OnFailure"]["Destination"]
        queue = queue_arn.rsplit(":", 1)[1]
        assert queue == f"{name}-failures" and queue in alarmed, key
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["SqsManagedSseEnabled"] == "true" and attributes["MessageRetentionPeriod"] == "1209600"
        role = lambda_.get_function_configuration(FunctionName=name)["Role"].rsplit("/", 1)[1]
        (policy,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
        document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        sends = [s for s in document["Statement"] if "sqs:SendMessage" in s["Action"]]
        # ...and the worker also to its stream mapping's (the mapping sends with the function's role) and to the
        # control queue (captions held back: test_each_function_may_call_only_what_it_needs).
        elsewhere = (":speech-broadcast-local-audio-failures", ":speech-broadcast-local-control")
        others = [
            s["Resource"] for s in sends if not (key == "transcription_worker" and s["Resource"].endswith(elsewhere))
        ]
        assert others == [queue_arn], key
    for function in ("join-session", "heartbeat", "authorizer"):
        with pytest.raises(lambda_.exceptions.ResourceNotFoundException):
            lambda_.get_function_event_invoke_config(FunctionName=f"speech-broadcast-local-{function}")
    for summary in scheduler.list_schedules()["Schedules"]:
        target = scheduler.get_schedule(Name=summary["Name"], GroupName=summary["GroupName"])["Target"]
        assert target["DeadLetterConfig"]["Arn"].endswith(":speech-broadcast-local-schedules-undelivered")
    assert {"speech-broadcast-local-schedules-undelivered", "speech-broadcast-local-audio-failures"} <= alarmed


@pytest.fixture(scope="module")
def outputs(deployed_local):
    return terraform_outputs("local", provider_mirror(), deployed_local["workdirs"])


def test_speakers_sign_in_at_a_user_pool_whose_public_client_takes_only_the_code_grant(deployed_local, outputs):
    idp = emulator_client("cognito-idp", deployed_local["endpoint"])
    sign_in = outputs["sign_in"]
    pool = idp.describe_user_pool(UserPoolId=sign_in["user_pool_id"])["UserPool"]
    assert pool["Name"] == "speech-broadcast-local-speakers"
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["Domain"] == "speech-broadcast-local"
    assert sign_in["hosted_ui_url"] == "https://speech-broadcast-local.auth.eu-west-1.amazoncognito.com"
    client = idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=sign_in["client_id"])["UserPoolClient"]
    assert "ClientSecret" not in client
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"] is True
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email"}
    assert client["CallbackURLs"] == client["LogoutURLs"] == [f"{outputs['site_url']}speaker.html"]
    groups = [g["GroupName"] for g in idp.list_groups(UserPoolId=pool["Id"])["Groups"]]
    assert groups == ["speakers"] == [sign_in["speaker_group"]]


def test_local_authorizer_keeps_its_own_issuer_beside_the_user_pool(deployed_local):
    lambda_ = emulator_client("lambda", deployed_local["endpoint"])
    variables = lambda_.get_function_configuration(FunctionName="speech-broadcast-local-authorizer")["Environment"][
        "Variables"
    ]
    assert (variables["JWT_ISSUER"], variables["JWT_AUDIENCE"]) == (local_auth.ISSUER, local_auth.AUDIENCE)
    assert "JWKS_JSON" in variables and "JWKS_URL" not in variables


def test_site_bucket_is_private_and_only_its_distribution_may_read_it(deployed_local, outputs):
    s3 = emulator_client("s3", deployed_local["endpoint"])
    cloudfront = emulator_client("cloudfront", deployed_local["endpoint"])
    bucket = outputs["site"]["bucket"]
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # local.tfvars turns versioning off: moto cannot empty a versioned bucket that holds delete markers.
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") in (None, "Suspended")
    distribution = cloudfront.get_distribution(Id=outputs["site"]["distribution_id"])["Distribution"]
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert statement["Effect"] == "Allow" and statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject" and statement["Resource"] == f"arn:aws:s3:::{bucket}/*"
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution["ARN"]}}

    config = distribution["DistributionConfig"]
    (origin,) = config["Origins"]["Items"]
    assert origin["DomainName"] == f"{bucket}.s3.eu-west-1.amazonaws.com"
    # (moto keeps no OriginAccessControlId on an origin; the control itself is there.)
    (control,) = cloudfront.list_origin_access_controls()["OriginAccessControlList"]["Items"]
    assert control["Name"] == bucket
    assert (control["OriginAccessControlOriginType"], control["SigningBehavior"]) == ("s3", "always")
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "listener.html"
    assert outputs["site_url"] == f"https://{distribution['DomainName']}/"


def test_site_holds_the_built_pages_and_a_config_json_naming_this_deployment(deployed_local, outputs):
    s3 = emulator_client("s3", deployed_local["endpoint"])
    bucket = outputs["site"]["bucket"]
    built = {str(p.relative_to(ROOT / "web" / "dist")) for p in (ROOT / "web" / "dist").rglob("*") if p.is_file()}
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == built | {"config.json"}
    assert s3.head_object(Bucket=bucket, Key="speaker.html")["ContentType"] == "text/html; charset=utf-8"
    (script,) = [key for key in keys if key.startswith("assets/speaker-")]
    assert s3.head_object(Bucket=bucket, Key=script)["ContentType"] == "text/javascript; charset=utf-8"
    config = json.loads(s3.get_object(Bucket=bucket, Key="config.json")["Body"].read())
    assert config == {
        "webSocketUrl": outputs["websocket_url"],
        "signIn": {
            "mode": "cognito",
            "hostedUiUrl": outputs["sign_in"]["hosted_ui_url"],
            "clientId": outputs["sign_in"]["client_id"],
            "scope": "openid email",
            "redirectUri": f"{outputs['site_url']}speaker.html",
        },
    }


def test_capacity_output_is_the_derivation_the_functions_make_of_their_plan(deployed_local, outputs):
    # (the suite lifts createSession's own plan, tests/conftest.py; the periodic status keeps Terraform's)
    lambda_ = emulator_client("lambda", deployed_local["endpoint"])
    status = lambda_.get_function_configuration(FunctionName="speech-broadcast-local-publish-periodic-status")
    plan = CapacityPlan.model_validate_json(status["Environment"]["Variables"]["CAPACITY_PLAN"])
    assert plan == CapacityPlan.model_validate(outputs["capacity"]["plan"])
    declared = re.search(r"^measured_throughput_talks\s*=\s*(\d+)", LOCAL_TFVARS.read_text(), re.MULTILINE)
    assert declared, "local.tfvars declares the local platform's measured throughput"
    talks = int(declared.group(1))
    assert plan.throughput_talks == talks and plan.translation_concurrency == 100  # reserved concurrency
    capacity = derive(plan)
    shown = outputs["capacity"]
    assert shown["max_concurrent_talks"] == capacity.max_concurrent_talks == talks
    assert shown["binding"] == capacity.binding.value == "measuredThroughput"
    assert shown["bounds"] == {bound.value: count for bound, count in capacity.bounds.items()}
    # ...and the same for the account's own quotas, without the local throughput: Polly's neural 8 TPS binds
    on_aws = derive(plan.model_copy(update={"throughput_talks": None}))
    assert (on_aws.max_concurrent_talks, on_aws.binding.value) == (8, "speechCallsPerSecond")
    alarms = emulator_client("cloudwatch", deployed_local["endpoint"]).describe_alarms(
        AlarmNames=["speech-broadcast-local-capacity"]
    )["MetricAlarms"]
    assert [(a["MetricName"], a["Statistic"], a["ComparisonOperator"], a["Threshold"]) for a in alarms] == [
        ("CapacityUsedPercent", "Maximum", "GreaterThanOrEqualToThreshold", 80.0)
    ]
