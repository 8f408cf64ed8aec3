"""Speaker tokens: Cognito-style RS256 JWTs checked against a JSON Web Key Set.

The key set comes from ``JWKS_URL`` (a Cognito user pool's
``/.well-known/jwks.json``, fetched and cached by PyJWT) or, for local runs and tests,
inline from ``JWKS_JSON``. ``JWT_ISSUER`` and ``JWT_AUDIENCE`` must match the token's
``iss`` and its ``aud`` (ID tokens) or ``client_id`` (Cognito access tokens).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from broadcast_shared.config import ConfigurationError

ALGORITHMS = ["RS256"]
#: seconds of clock skew tolerated on exp/nbf/iat
LEEWAY_SECONDS = 30


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed, expired or meant for someone else."""


@dataclass(frozen=True)
class Speaker:
    user_id: str


class TokenVerifier:
    def __init__(self, issuer: str, audience: str, keys: jwt.PyJWKClient | jwt.PyJWKSet) -> None:
        self._issuer = issuer
        self._audience = audience
        self._keys = keys

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> TokenVerifier:
        env = os.environ if env is None else env
        issuer = env.get("JWT_ISSUER", "")
        audience = env.get("JWT_AUDIENCE", "")
        if not issuer or not audience:
            raise ConfigurationError("JWT_ISSUER and JWT_AUDIENCE are required")
        if env.get("JWKS_JSON"):
            keys: jwt.PyJWKClient | jwt.PyJWKSet = jwt.PyJWKSet.from_json(env["JWKS_JSON"])
        elif env.get("JWKS_URL"):
            keys = jwt.PyJWKClient(env["JWKS_URL"], cache_keys=True, lifespan=3600, timeout=5)
        else:
            raise ConfigurationError("one of JWKS_URL or JWKS_JSON is required")
        return cls(issuer, audience, keys)

    def verify(self, token: str | None) -> Speaker:
        if not token:
            raise InvalidToken("no token")
        try:
            key = self._signing_key(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
            )
        except (jwt.PyJWTError, KeyError) as exc:
            raise InvalidToken(str(exc)) from exc
        audience = claims.get("aud", claims.get("client_id"))
        audiences = audience if isinstance(audience, list) else [audience]
        if self._audience not in audiences:
            raise InvalidToken("token is for another audience")
        if claims.get("token_use", "id") not in ("id", "access"):
            raise InvalidToken("token_use must be id or access")
        return Speaker(user_id=str(claims["sub"]))

    def _signing_key(self, token: str) -> Any:
        if isinstance(self._keys, jwt.PyJWKClient):
            return self._keys.get_signing_key_from_jwt(token).key
        kid = jwt.get_unverified_header(token).get("kid")
        return self._keys[kid].key
