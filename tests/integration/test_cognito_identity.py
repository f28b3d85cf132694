"""Cognito identity: real tokens from moto's user pool verified against its JWKS over HTTP, and
forged or broken tokens refused, none of them logged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
import structlog

from dynamotalk.adapters.cognito import CognitoIdentity
from dynamotalk.domain.errors import Unauthorized
from dynamotalk.local.provision import client, ensure_user_pool
from tests.support.cognito import Forger, sign_up, unique

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_forged"


@pytest.fixture(scope="module")
def pool(moto_server: str) -> dict[str, Any]:
    cognito = client("cognito-idp", moto_server)
    pool_id, client_id = ensure_user_pool(cognito, unique("identity-"))
    return {"cognito": cognito, "pool_id": pool_id, "client_id": client_id, "endpoint": moto_server}


def moto_identity(pool: dict[str, Any]) -> CognitoIdentity:
    return CognitoIdentity(
        issuer=f"https://cognito-idp.us-east-1.amazonaws.com/{pool['pool_id']}",
        client_id=pool["client_id"],
        jwks_url=f"{pool['endpoint']}/{pool['pool_id']}/.well-known/jwks.json",
    )


def test_real_id_and_access_tokens_from_the_user_pool(pool: dict[str, Any]) -> None:
    name = unique("alice")
    tokens = sign_up(pool["cognito"], pool["client_id"], pool["pool_id"], name)
    identity = moto_identity(pool)
    by_id = identity.verify(tokens["IdToken"])
    by_access = identity.verify(tokens["AccessToken"])
    assert by_id == by_access
    assert by_id.username == name
    user = pool["cognito"].admin_get_user(UserPoolId=pool["pool_id"], Username=name)
    sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
    assert by_id.user_id == sub


def test_tokens_of_another_app_client_are_refused(pool: dict[str, Any]) -> None:
    tokens = sign_up(pool["cognito"], pool["client_id"], pool["pool_id"], unique("bob"))
    other = CognitoIdentity(
        issuer=f"https://cognito-idp.us-east-1.amazonaws.com/{pool['pool_id']}",
        client_id="some-other-client",
        jwks_url=f"{pool['endpoint']}/{pool['pool_id']}/.well-known/jwks.json",
    )
    with pytest.raises(Unauthorized):
        other.verify(tokens["IdToken"])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def forged_tokens(forger: Forger) -> dict[str, str]:
    """At least a dozen ways a token can be wrong."""
    now = int(time.time())
    stranger = Forger(ISSUER, forger.client_id)  # same kid, another key: bad signature
    good = forger.token()
    head, _body, signature = good.split(".")
    hs_header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": forger.kid}).encode())
    hs_body = b64(json.dumps(forger.claims()).encode())
    hs_sig = b64(
        hmac.new(forger.public_pem(), f"{hs_header}.{hs_body}".encode(), hashlib.sha256).digest()
    )
    return {
        "bad signature": stranger.token(),
        "expired": forger.token(exp=now - 3600, iat=now - 7200),
        "not yet valid": forger.token(nbf=now + 3600),
        "issued in the future": forger.token(iat=now + 3600),
        "wrong issuer": forger.token(
            iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_evil"
        ),
        "wrong audience": forger.token(aud="another-client"),
        "access token of another client": forger.token(
            token_use="access", aud=None, client_id="x", username="forged"
        ),
        "token_use mismatch": forger.token(token_use="refresh"),
        "no token_use": forger.token(token_use=None),
        "alg none": unsigned({"alg": "none", "kid": forger.kid}, forger.claims()),
        "HS256 signed with the public key": f"{hs_header}.{hs_body}.{hs_sig}",
        "unknown kid": forger.token(headers={"kid": "no-such-key"}),
        "missing kid": forger.token(headers={"kid": None}),
        "tampered claims": f"{head}.{b64(json.dumps(forger.claims(sub='admin')).encode())}.{signature}",
        "truncated": good[: len(good) // 2],
        "garbage": "not-a-jwt-at-all",
        "empty": "",
        "three dots of nothing": "..",
        "huge": "a" * 20_000,
        "no sub": forger.token(sub=None),
    }


FORGER = Forger(ISSUER, "web-client")
CASES = forged_tokens(FORGER)


def identity_for(forger: Forger) -> CognitoIdentity:
    return CognitoIdentity(issuer=ISSUER, client_id=forger.client_id, fetch=forger.fetch)


def test_a_good_forged_token_passes_so_the_refusals_mean_something() -> None:
    assert identity_for(FORGER).verify(FORGER.token()).username == "forged"


@pytest.mark.parametrize("name", list(CASES))
def test_broken_and_forged_tokens_are_refused_and_never_logged(name: str) -> None:
    token = CASES[name]
    identity = identity_for(FORGER)
    with structlog.testing.capture_logs() as logs, pytest.raises(Unauthorized) as refused:
        identity.verify(token)
    assert refused.value.code == "unauthorized"
    if len(token) > 8:
        assert token not in json.dumps(logs, default=str)
        assert token not in refused.value.message


def test_jwks_is_fetched_once_and_unknown_kids_refresh_at_most_once_a_minute() -> None:
    forger = Forger(ISSUER, "web-client")
    now = [1000.0]
    identity = CognitoIdentity(
        issuer=ISSUER, client_id="web-client", fetch=forger.fetch, clock=lambda: now[0]
    )
    for _ in range(5):
        identity.verify(forger.token())
    assert forger.fetches == 1
    for n in range(20):
        with pytest.raises(Unauthorized):
            identity.verify(forger.token(headers={"kid": f"spray-{n}"}))
    assert forger.fetches == 1, "an unknown kid within the interval does not refetch"
    now[0] += 61
    with pytest.raises(Unauthorized):
        identity.verify(forger.token(headers={"kid": "rotated"}))
    assert forger.fetches == 2


def test_rotated_key_is_picked_up_on_refresh() -> None:
    forger = Forger(ISSUER, "web-client", kid="old")
    now = [0.0]
    identity = CognitoIdentity(ISSUER, "web-client", fetch=forger.fetch, clock=lambda: now[0])
    identity.verify(forger.token())
    rotated = Forger(ISSUER, "web-client", kid="new")
    identity.fetch = rotated.fetch
    now[0] += 120
    assert identity.verify(rotated.token()).user_id == "u-forged"


def test_unreachable_jwks_refuses_instead_of_crashing() -> None:
    def down(url: str) -> bytes:
        raise OSError("connection refused")

    with pytest.raises(Unauthorized):
        CognitoIdentity(ISSUER, "web-client", fetch=down).verify(FORGER.token())
