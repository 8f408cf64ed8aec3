"""Fixtures for the cross-cutting tests: one Terraform-applied local environment per test process.

The apply starts in the background as soon as the process has collected a test that needs it, so it runs while
the process's first tests (unit tests, which need no deployment) do; the first test that needs it waits for the
rest. Under pytest-xdist (`make test`) each worker process applies into an emulator of its own: two talks
streamed at once never share a stream, a table or a Management API.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.deployment import apply_local, lift_capacity


class BackgroundDeployment:
    """`apply_local` started on a thread of its own, its capacity lifted (`lift_capacity`: the process's tests
    share it); discarded with its moto server when the test process ends (destroyed when the emulator is an
    external one; `terraform destroy` itself is `test_operations.py`'s, after tampering)."""

    def __init__(self) -> None:
        self._workdirs = Path(tempfile.mkdtemp(prefix="terraform-"))
        self._steps = apply_local(self._workdirs, destroy=False)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="terraform-apply")
        self._applied: Future[dict[str, Any]] = self._executor.submit(self._apply)

    def _apply(self) -> dict[str, Any]:
        applied = next(self._steps)
        lift_capacity(applied["endpoint"])
        return applied

    def result(self) -> dict[str, Any]:
        return self._applied.result()

    def destroy(self) -> None:
        try:
            self._applied.result()
        except Exception:  # noqa: BLE001 - the apply failed: the tests that needed it said so already
            self._steps.close()
        else:
            next(self._steps, None)
        finally:
            self._executor.shutdown()
            shutil.rmtree(self._workdirs, ignore_errors=True)


_deployment: BackgroundDeployment | None = None


def pytest_collection_finish(session: pytest.Session) -> None:
    global _deployment
    if shutil.which("terraform") is None or not any("deployed_local" in item.fixturenames for item in session.items):
        return
    _deployment = BackgroundDeployment()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _deployment is not None:
        _deployment.destroy()


@pytest.fixture(scope="session")
def deployed_local() -> Iterator[dict[str, Any]]:
    if _deployment is None:
        pytest.skip("terraform is not installed")
    yield _deployment.result()
