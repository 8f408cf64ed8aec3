"""The local speaker key pair: one key however many processes ask for it at once."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import jwt

from broadcast_tools import local_auth

PROCESSES = 6


def _ensure_and_sign(directory: str, barrier: Any, results: Any) -> None:
    barrier.wait()  # every process finds no key yet, as the test workers of a fresh clone did
    local_auth.ensure(Path(directory))
    results.put(local_auth.token(subject="racer", directory=Path(directory)))


def test_processes_ensuring_the_key_at_once_share_one_key_and_the_tfvars_it_verifies(tmp_path):
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    racers = [
        context.Process(target=_ensure_and_sign, args=(str(tmp_path), barrier, results)) for _ in range(PROCESSES)
    ]
    for racer in racers:
        racer.start()
    tokens = [results.get(timeout=60) for _ in racers]
    for racer in racers:
        racer.join(timeout=60)
        assert racer.exitcode == 0
    # what Terraform hands the authorizer verifies every token signed in the meantime
    keys = jwt.PyJWKSet.from_json(
        json.loads((tmp_path / "speaker-auth.tfvars.json").read_text())["speaker_auth"]["jwks_json"]
    )
    for token in tokens:
        claims = jwt.decode(
            token,
            keys[local_auth.KEY_ID].key,
            algorithms=["RS256"],
            audience=local_auth.AUDIENCE,
            issuer=local_auth.ISSUER,
        )
        assert claims["sub"] == "racer"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["jwks.json", "private.pem", "speaker-auth.tfvars.json"]
    assert (tmp_path / "private.pem").stat().st_mode & 0o777 == 0o600
