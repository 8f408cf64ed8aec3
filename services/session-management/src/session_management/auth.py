"""Speaker tokens: Cognito-style RS256 JWTs checked against a JSON Web Key Set.

The key set comes from ``JWKS_URL`` (a Cognito user pool's
``/.well-known/jwks.json``, fetched and cached by PyJWT) or, for local runs and tests,
inline from ``JWKS_JSON``. ``JWT_ISSUER`` and ``JWT_AUDIENCE`` must match the token's
``iss`` and its ``aud`` (ID tokens) or ``client_id`` (Cognito access tokens).

Being signed in is not enough to speak: the token must carry ``token_use`` (``id`` or
``access``), a non-empty ``sub``, and either membership of the speakers group
(``cognito:groups`` holds ``JWT_SPEAKER_GROUP``, default ``speakers``) or, for an access
token, the ``JWT_SPEAKER_SCOPE`` scope (default ``broadcast/speak``). The key set fetched
from ``JWKS_URL`` is kept at most ``JWKS_LIFESPAN_SECONDS`` (five minutes) and signing keys
are never cached apart from it, so a key removed at the identity provider stops working
within five minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import jwt
from pydantic import model_validator

from broadcast_shared.config import EnvironmentSettings, NonEmpty

ALGORITHMS = ["RS256"]
#: seconds of clock skew tolerated on exp/nbf/iat
LEEWAY_SECONDS = 30
#: how long a fetched key set is trusted before it is fetched again
JWKS_LIFESPAN_SECONDS = 300
DEFAULT_SPEAKER_GROUP = "speakers"
DEFAULT_SPEAKER_SCOPE = "broadcast/speak"


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed, expired or meant for someone else."""


@dataclass(frozen=True)
class Speaker:
    user_id: str


class AuthorizerSettings(EnvironmentSettings):
    """What the ``$connect`` authorizer reads: whose tokens it accepts, their key set and the right to speak."""

    jwt_issuer: NonEmpty
    jwt_audience: NonEmpty
    #: the key set inline (local runs and tests), else fetched from ``jwks_url``
    jwks_json: str = ""
    jwks_url: str = ""
    jwt_speaker_group: str = DEFAULT_SPEAKER_GROUP
    jwt_speaker_scope: str = DEFAULT_SPEAKER_SCOPE

    @model_validator(mode="after")
    def _a_key_set(self) -> Self:
        if not (self.jwks_json or self.jwks_url):
            raise ValueError("one of JWKS_URL or JWKS_JSON is required")
        return self


class TokenVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        keys: jwt.PyJWKClient | jwt.PyJWKSet,
        speaker_group: str = DEFAULT_SPEAKER_GROUP,
        speaker_scope: str = DEFAULT_SPEAKER_SCOPE,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._keys = keys
        self._speaker_group = speaker_group
        self._speaker_scope = speaker_scope

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> TokenVerifier:
        settings = AuthorizerSettings.from_environment(env)
        if settings.jwks_json:
            keys: jwt.PyJWKClient | jwt.PyJWKSet = jwt.PyJWKSet.from_json(settings.jwks_json)
        else:
            # cache_keys would keep every key it ever saw in an LRU cache with no expiry: a key removed at the
            # identity provider would go on working until the environment is recycled
            keys = jwt.PyJWKClient(
                settings.jwks_url, cache_keys=False, cache_jwk_set=True, lifespan=JWKS_LIFESPAN_SECONDS, timeout=5
            )
        return cls(
            settings.jwt_issuer, settings.jwt_audience, keys, settings.jwt_speaker_group, settings.jwt_speaker_scope
        )

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
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except (jwt.PyJWTError, KeyError) as exc:
            raise InvalidToken(str(exc)) from exc
        token_use = claims["token_use"]
        if token_use not in ("id", "access"):
            raise InvalidToken("token_use must be id or access")
        audience = claims.get("aud") if token_use == "id" else claims.get("client_id")
        audiences = audience if isinstance(audience, list) else [audience]
        if self._audience not in audiences:
            raise InvalidToken("token is for another audience")
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject.strip():
            raise InvalidToken("sub must be a non-empty string")
        groups = claims.get("cognito:groups") or []
        scopes = str(claims.get("scope") or "").split() if token_use == "access" else []
        if self._speaker_group not in groups and self._speaker_scope not in scopes:
            raise InvalidToken(f"not a speaker: needs group {self._speaker_group} or scope {self._speaker_scope}")
        return Speaker(user_id=subject)

    def _signing_key(self, token: str) -> Any:
        if isinstance(self._keys, jwt.PyJWKClient):
            return self._keys.get_signing_key_from_jwt(token).key
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("the token names no signing key")
        return self._keys[kid].key
