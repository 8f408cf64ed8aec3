"""The $connect REQUEST authorizer with real RS256 tokens from the project's local key pair."""

import json

import pytest

from broadcast_tools import local_auth
from session_management.auth import TokenVerifier
from session_management.handlers.authorizer import authorize, handler
from tests.support.events import FakeLambdaContext, authorizer_event


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return local_auth.ensure(tmp_path_factory.mktemp("auth"))


@pytest.fixture
def verifier(keys):
    jwks = (keys / "jwks.json").read_text()
    return TokenVerifier.from_environment(
        {"JWT_ISSUER": local_auth.ISSUER, "JWT_AUDIENCE": local_auth.AUDIENCE, "JWKS_JSON": jwks}
    )


def effect(response):
    return response["policyDocument"]["Statement"][0]["Effect"]


def test_speaker_with_valid_token_is_allowed_as_speaker(keys, verifier):
    token = local_auth.token("alice", directory=keys)
    response = handler.using(verifier)(authorizer_event({"role": "speaker", "token": token}), FakeLambdaContext())
    assert effect(response) == "Allow"
    assert response["context"] == {"role": "speaker", "userId": "alice"}
    assert response["principalId"] == "alice"


def test_listener_needs_no_token(verifier):
    response = authorize(authorizer_event({"role": "listener"}), verifier)
    assert effect(response) == "Allow"
    assert response["context"]["role"] == "listener"


@pytest.mark.parametrize(
    "make_token",
    [
        lambda keys: None,
        lambda keys: "not-a-jwt",
        lambda keys: local_auth.token(directory=keys, now=0, ttl_seconds=60),
        lambda keys: local_auth.token(directory=keys, audience="someone-else"),
        lambda keys: local_auth.token(directory=keys, issuer="https://evil.example"),
        lambda keys: local_auth.token(directory=keys, groups=()),  # signed in, but not a speaker
        lambda keys: local_auth.token(directory=keys, groups=("listeners",)),
        lambda keys: local_auth.token(directory=keys, subject=""),
        lambda keys: local_auth.token(directory=keys, subject="   "),
        lambda keys: local_auth.token(directory=keys, token_use=None),
        lambda keys: local_auth.token(directory=keys, token_use="refresh"),
        # an access token without the speak scope, and one whose client is not ours
        lambda keys: local_auth.token(
            directory=keys, groups=(), token_use="access", aud=None, client_id=local_auth.AUDIENCE
        ),
        lambda keys: local_auth.token(
            directory=keys, token_use="access", aud=None, client_id="another-app", scope="broadcast/speak"
        ),
    ],
)
def test_bad_speaker_token_is_denied_not_downgraded(keys, verifier, make_token):
    token = make_token(keys)
    query = {"role": "speaker", **({"token": token} if token else {})}
    response = authorize(authorizer_event(query), verifier)
    assert effect(response) == "Deny"
    assert "role" not in response["context"]


def test_token_signed_by_another_key_is_denied(tmp_path, verifier):
    other = local_auth.ensure(tmp_path)
    response = authorize(authorizer_event({"role": "speaker", "token": local_auth.token(directory=other)}), verifier)
    assert effect(response) == "Deny"


@pytest.mark.parametrize("query", [{}, {"role": "admin"}, {"role": "Speaker"}])
def test_unknown_role_is_denied(verifier, query):
    assert effect(authorize(authorizer_event(query), verifier)) == "Deny"


def test_verifier_needs_issuer_audience_and_keys():
    from broadcast_shared.config import ConfigurationError

    with pytest.raises(ConfigurationError):
        TokenVerifier.from_environment({"JWT_ISSUER": "x", "JWT_AUDIENCE": "y"})
    with pytest.raises(ConfigurationError):
        TokenVerifier.from_environment({"JWKS_JSON": json.dumps({"keys": []})})


def test_access_token_with_the_speak_scope_is_a_speaker(keys, verifier):
    token = local_auth.token(
        "bob",
        directory=keys,
        groups=(),
        token_use="access",
        aud=None,
        client_id=local_auth.AUDIENCE,
        scope="openid broadcast/speak",
    )
    response = authorize(authorizer_event({"role": "speaker", "token": token}), verifier)
    assert effect(response) == "Allow" and response["context"]["userId"] == "bob"


def test_a_key_removed_from_the_jwks_stops_working_once_the_cached_set_expires(keys, tmp_path, monkeypatch):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    import jwt.jwk_set_cache

    from session_management.auth import JWKS_LIFESPAN_SECONDS, InvalidToken

    served = {"jwks": (keys / "jwks.json").read_bytes()}

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(served["jwks"])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        verifier = TokenVerifier.from_environment(
            {
                "JWT_ISSUER": local_auth.ISSUER,
                "JWT_AUDIENCE": local_auth.AUDIENCE,
                "JWKS_URL": f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json",
            }
        )
        token = local_auth.token("alice", directory=keys)
        assert verifier.verify(token).user_id == "alice"
        served["jwks"] = (local_auth.ensure(tmp_path) / "jwks.json").read_bytes()  # the key is rotated out
        later = jwt.jwk_set_cache.time.monotonic() + JWKS_LIFESPAN_SECONDS + 1
        monkeypatch.setattr(jwt.jwk_set_cache.time, "monotonic", lambda: later)
        with pytest.raises(InvalidToken):
            verifier.verify(token)
    finally:
        server.shutdown()
