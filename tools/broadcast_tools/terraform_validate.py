"""``terraform validate`` of the root module as dev/staging/prod see it and as local sees it.

Runs ``init -backend=false`` in throwaway working directories, so it needs neither
credentials nor state.

    python -m broadcast_tools.terraform_validate
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from broadcast_tools.terraform import cli_config, provider_mirror, workdir


def validate(env: str, mirror: str | None) -> int:
    terraform = shutil.which("terraform") or "terraform"
    environ = cli_config(mirror)
    with tempfile.TemporaryDirectory() as base:
        directory = workdir(env, base=Path(base))
        for step in (["init", "-backend=false", "-input=false"], ["validate"]):
            result = subprocess.run(
                [terraform, *step, "-no-color"], cwd=directory, env=environ, capture_output=True, text=True
            )
            if result.returncode:
                print(result.stdout + result.stderr, file=sys.stderr)
                return result.returncode
        print(f"validate ({env}): {result.stdout.strip()}")
    return 0


def main() -> int:
    mirror = provider_mirror()
    return max(validate("dev", mirror), validate("local", mirror))


if __name__ == "__main__":
    sys.exit(main())
