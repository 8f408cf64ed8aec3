"""A moto server in this process standing in for AWS: every boto3 client made meanwhile reaches it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

from broadcast_tools.moto_launcher import prepare_server
from tests.support.ports import free_port

REGION = "eu-west-1"
#: what points boto3 at the emulator, saved and put back afterwards
ENVIRONMENT = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")


@contextmanager
def emulated_aws() -> Iterator[str]:
    """Start a moto server, point boto3 at it (``AWS_ENDPOINT_URL``, test credentials, the region) and yield its
    endpoint; stop it and restore the environment afterwards. It runs as ``make dev``'s does
    (:func:`broadcast_tools.moto_launcher.prepare_server`: no request log, moto's module listing made once, DynamoDB's
    requests answered one at a time, each response in one write)."""
    prepare_server()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {key: os.environ.get(key) for key in ENVIRONMENT}
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
    )
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
