"""Speaker authentication for local runs: the project's own RSA key pair, JWKS and tokens.

``make token`` prints a valid speaker token on its last line. The key pair and the
Terraform variables that hand its JWKS to the ``$connect`` authorizer live in
``.local/auth/`` (never committed).

    python -m broadcast_tools.local_auth ensure          # key pair + speaker-auth.tfvars.json
    python -m broadcast_tools.local_auth token [--ttl 3600] [--subject alice]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from broadcast_tools.artifacts import ROOT

ISSUER = "https://auth.local.speech-broadcast"
AUDIENCE = "local-speakers"
KEY_ID = "local-speaker-key"
#: the group the authorizer requires of a speaker (Cognito ``cognito:groups``)
SPEAKER_GROUP = "speakers"


def auth_dir(root: Path = ROOT) -> Path:
    return root / ".local" / "auth"


def ensure(directory: Path | None = None) -> Path:
    """Create the key pair, JWKS and tfvars once; returns the folder.

    Safe to call from processes at once (the test workers of a fresh clone each do): the key is published with a
    hard link, which only one of them wins, and the files derived from it are replaced whole, so a Terraform apply
    reading the tfvars meanwhile never meets a half-written file or another process's key."""
    directory = directory or auth_dir()
    directory.mkdir(parents=True, exist_ok=True)
    private_path = directory / "private.pem"
    if not private_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".private-") as staged:  # created 0600
            staged.write(pem)
            staged.flush()
            with contextlib.suppress(FileExistsError):  # another process published its key first: that one holds
                os.link(staged.name, private_path)
    loaded = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey), f"{private_path} holds no RSA key"
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(loaded.public_key()))
    jwk.update({"kid": KEY_ID, "use": "sig", "alg": "RS256"})
    jwks = json.dumps({"keys": [jwk]}, sort_keys=True)
    _replace(directory / "jwks.json", jwks + "\n")
    _replace(
        directory / "speaker-auth.tfvars.json",
        json.dumps({"speaker_auth": {"issuer": ISSUER, "audience": AUDIENCE, "jwks_json": jwks}}, indent=2) + "\n",
    )
    return directory


def _replace(path: Path, text: str) -> None:
    """Write ``path`` whole: a reader sees the old file or the new one, never a part."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}-", delete=False) as staged:
        staged.write(text)
    os.chmod(staged.name, 0o644)
    os.replace(staged.name, path)


def token(
    subject: str | None = None,
    ttl_seconds: int = 12 * 3600,
    directory: Path | None = None,
    now: float | None = None,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    groups: tuple[str, ...] = (SPEAKER_GROUP,),
    **claims_override: object,
) -> str:
    directory = ensure(directory)
    subject = f"local-speaker-{uuid.uuid4().hex[:8]}" if subject is None else subject
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": subject,
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "token_use": "id",
        "cognito:groups": list(groups),
        "jti": uuid.uuid4().hex,
    }
    claims.update(claims_override)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, (directory / "private.pem").read_bytes(), algorithm="RS256", headers={"kid": KEY_ID})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="local speaker authentication")
    parser.add_argument("command", choices=["ensure", "token"])
    parser.add_argument("--subject", help="the speaker's user id (default: a new one; sessions are limited per user)")
    parser.add_argument("--ttl", type=int, default=12 * 3600, help="token lifetime in seconds")
    args = parser.parse_args(argv)
    if args.command == "ensure":
        print(ensure())
    else:
        issued = token(args.subject, args.ttl)
        subject = jwt.decode(issued, options={"verify_signature": False})["sub"]
        print(f"speaker token for {subject}, valid {args.ttl} s, issuer {ISSUER}:", file=sys.stderr)
        print(issued)
    return 0


if __name__ == "__main__":
    sys.exit(main())
