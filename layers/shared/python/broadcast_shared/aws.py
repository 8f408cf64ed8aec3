"""boto3 clients built one way everywhere.

Retries use botocore's ``standard`` mode (exponential backoff with jitter, bounded
attempts). Endpoints follow boto3's own rules, so the standard ``AWS_ENDPOINT_URL``
(and ``AWS_ENDPOINT_URL_<SERVICE>``) points every client at an emulator.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

DEFAULT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    max_pool_connections=64,
)


def client(service: str, *, endpoint_url: str | None = None, config: Config | None = None) -> Any:
    session = boto3.session.Session()
    return session.client(service, endpoint_url=endpoint_url, config=DEFAULT_CONFIG.merge(config or Config()))


def resource(service: str, *, config: Config | None = None) -> Any:
    session = boto3.session.Session()
    return session.resource(service, config=DEFAULT_CONFIG.merge(config or Config()))
