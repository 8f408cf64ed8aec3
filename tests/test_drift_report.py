"""`make drift` reads a refresh-only plan: what it reports, and what it leaves to another resource or the emulator."""

from __future__ import annotations

from typing import Any

from broadcast_tools.drift import report_from_plan


def drifted(resource_type: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        "resource_drift": [
            {
                "address": f"module.x.{resource_type}.this",
                "type": resource_type,
                "change": {"actions": ["update"], "before": before, "after": after},
            }
        ]
    }


def test_a_distribution_losing_its_origin_access_control_is_drift_on_aws_but_a_known_emulator_quirk_locally():
    plan = drifted(
        "aws_cloudfront_distribution",
        {"origin": [{"origin_access_control_id": "E2QWRUHEXAMPLE"}]},
        {"origin": [{"origin_access_control_id": ""}]},
    )
    (resource,) = report_from_plan("prod", plan).resources
    assert [c.attribute for c in resource.changes] == ["origin[0].origin_access_control_id"]
    assert report_from_plan("local", plan).resources == []


def test_a_changed_origin_domain_is_drift_even_locally():
    plan = drifted(
        "aws_cloudfront_distribution",
        {"origin": [{"domain_name": "a.s3.eu-west-1.amazonaws.com", "origin_access_control_id": "E2"}]},
        {"origin": [{"domain_name": "b.s3.eu-west-1.amazonaws.com", "origin_access_control_id": ""}]},
    )
    (resource,) = report_from_plan("local", plan).resources
    assert [c.attribute for c in resource.changes] == ["origin[0].domain_name"]


def test_bucket_and_user_pool_attributes_owned_by_their_own_resources_are_not_reported_on_them():
    bucket = drifted(
        "aws_s3_bucket", {"policy": "", "versioning": []}, {"policy": "{}", "versioning": [{"enabled": True}]}
    )
    pool = drifted("aws_cognito_user_pool", {"domain": ""}, {"domain": "speech-broadcast-dev"})
    assert report_from_plan("dev", bucket).resources == [] and report_from_plan("dev", pool).resources == []
