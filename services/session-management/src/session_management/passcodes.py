"""A private talk's passcode, kept only as a salted scrypt hash (``hashlib``) and checked in constant time.

The stored form names its parameters (``scrypt$<n>$<r>$<p>$<salt>$<key>``, base64 without padding), so they can
be raised later without locking out talks already running. n = 2^14, r = 8 takes 16 MiB and about 60 ms on this
project's 2-core test machine (120-180 ms under a load average of 30): paid once per ``createSession`` and once
per ``joinSession`` of a private talk, and a guesser's attempts are bounded by the join lockout
(``sessions.JOIN_FAILURES_ALLOWED``) before any is hashed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
COST = 2**14
BLOCK_SIZE = 8
PARALLELISM = 1
SALT_BYTES = 16
KEY_BYTES = 32


def _derive(passcode: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(passcode.encode(), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=2 * 128 * r * n)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_passcode(passcode: str) -> str:
    """The passcode's stored form, with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(passcode, salt, COST, BLOCK_SIZE, PARALLELISM)
    return f"{SCHEME}${COST}${BLOCK_SIZE}${PARALLELISM}${_b64(salt)}${_b64(key)}"


def matches(passcode: str, stored: str) -> bool:
    """Whether ``passcode`` is the one ``stored`` was made from (False for a scheme other than scrypt)."""
    scheme, n, r, p, salt, key = stored.split("$")
    if scheme != SCHEME:
        return False
    return hmac.compare_digest(_derive(passcode, _unb64(salt), int(n), int(r), int(p)), _unb64(key))
