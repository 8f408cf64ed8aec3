"""Fixtures for the cross-cutting tests: one Terraform-applied local environment per run."""

from __future__ import annotations

import shutil

import pytest

from tests.support.deployment import apply_local


@pytest.fixture(scope="session")
def deployed_local(tmp_path_factory):
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    yield from apply_local(tmp_path_factory.mktemp("terraform"))
