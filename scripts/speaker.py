#!/usr/bin/env python3
"""The speaker client (see tools/broadcast_client/speaker.py); `speaker.py --help` lists its options."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "layers" / "shared" / "python")]

from broadcast_client.speaker import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
