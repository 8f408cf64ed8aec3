"""The local platform running in a background thread, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local_runtime.stack import LocalPlatform
from tests.support.deployment import apply_local


class RunningPlatform:
    def __init__(self, endpoint: str, **options: Any) -> None:
        self.stack = LocalPlatform(endpoint, port=options.pop("port", 0), **options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="local-platform", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.stack.start(), self._loop).result(timeout=30)

    @property
    def url(self) -> str:
        return self.stack.url

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.stack.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> RunningPlatform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def serving_applied_platform(variables: dict[str, str] | None = None, **options: Any) -> Iterator[RunningPlatform]:
    """``ENV=local`` applied by Terraform into a scratch emulator (``variables`` overriding the environment's, as
    :func:`tests.support.deployment.apply_local` takes them), the platform serving it (``options`` as
    :class:`LocalPlatform` takes them); destroyed afterwards."""
    with tempfile.TemporaryDirectory() as scratch:
        deployment = apply_local(Path(scratch), variables=variables)
        deployed = next(deployment)
        try:
            with RunningPlatform(deployed["endpoint"], **options) as stack:
                yield stack
        finally:
            next(deployment, None)
