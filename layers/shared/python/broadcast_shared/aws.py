"""boto3 clients built one way everywhere.

Retries use botocore's ``standard`` mode (exponential backoff with jitter, bounded
attempts). Every client counts its calls and their billable units (:mod:`broadcast_shared.meter`).
Endpoints follow boto3's own rules, so the standard ``AWS_ENDPOINT_URL``
(and ``AWS_ENDPOINT_URL_<SERVICE>``) points every client at an emulator.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from broadcast_shared.meter import meter

DEFAULT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    max_pool_connections=64,
)


def client(service: str, *, endpoint_url: str | None = None, config: Config | None = None) -> Any:
    session = boto3.session.Session()
    built = session.client(service, endpoint_url=endpoint_url, config=DEFAULT_CONFIG.merge(config or Config()))
    return meter.attach(built)


def resource(service: str, *, config: Config | None = None) -> Any:
    session = boto3.session.Session()
    built = session.resource(service, config=DEFAULT_CONFIG.merge(config or Config()))
    meter.attach(built.meta.client)
    return built
