"""`make bench`: speed and size figures, printed as percentiles and ratios (never asserted in tests)."""

import os

#: the region and credentials every benchmark's clients use against its own emulator (set only where unset)
EMULATOR_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
}


def use_emulator_environment() -> None:
    for key, value in EMULATOR_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
