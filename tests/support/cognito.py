"""Cognito helpers for tests: users with real tokens from moto's user pool, and forged tokens
signed with our own keys for the refusal tests."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import attrs
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PASSWORD = "correct-horse-9"  # dummy password for loopback test users


def sign_up(cognito: Any, client_id: str, pool_id: str, username: str) -> dict[str, str]:
    """Create a confirmed user in moto and return its tokens (IdToken, AccessToken, ...)."""
    cognito.sign_up(
        ClientId=client_id,
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
    )
    cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=username)
    return sign_in(cognito, client_id, username)


def sign_in(cognito: Any, client_id: str, username: str) -> dict[str, str]:
    reply = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    result: dict[str, str] = reply["AuthenticationResult"]
    return result


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@attrs.define
class Forger:
    """Our own 'user pool': an RSA key with a JWKS, for tokens we control claim by claim."""

    issuer: str
    client_id: str
    kid: str = "test-key"
    key: rsa.RSAPrivateKey = attrs.Factory(
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    fetches: int = 0

    def jwks(self) -> bytes:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return json.dumps(
            {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}
        ).encode()

    def fetch(self, url: str) -> bytes:
        self.fetches += 1
        return self.jwks()

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "sub": "u-forged",
            "iss": self.issuer,
            "aud": self.client_id,
            "token_use": "id",
            "cognito:username": "forged",
            "iat": now,
            "auth_time": now,
            "exp": now + 3600,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        head = {k: v for k, v in {"kid": self.kid, **(headers or {})}.items() if v is not None}
        return jwt.encode(self.claims(**claims), self.key, algorithm="RS256", headers=head)

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
