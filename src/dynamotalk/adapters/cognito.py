"""The Identity port on Cognito: verify ID or access tokens against the user pool's JWKS.

RS256 only. The JWKS is fetched once per container and refreshed when a token names an unknown
key id, at most once per `refresh_interval_s` (a stream of made-up key ids cannot make us hammer
the JWKS endpoint). Checks: signature, issuer, audience (id token `aud`, access token
`client_id`), `token_use`, `exp`/`nbf`/`iat` with a small leeway. Every refusal is the same
Unauthorized; a token is never logged.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Collection
from typing import Any

import attrs
import jwt
import structlog

from dynamotalk.domain.errors import Unauthorized
from dynamotalk.domain.limits import MAX_TOKEN_CHARS
from dynamotalk.domain.models import Principal

_log = structlog.get_logger("dynamotalk.identity")


def fetch_url(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - https or loopback
        body: bytes = response.read()
        return body


@attrs.define
class CognitoIdentity:
    issuer: str
    """https://cognito-idp.{region}.amazonaws.com/{user pool id}"""
    client_id: str
    jwks_url: str | None = None
    """Defaults to `{issuer}/.well-known/jwks.json`."""
    token_uses: Collection[str] = ("id", "access")
    leeway_s: int = 30
    refresh_interval_s: float = 60.0
    fetch: Callable[[str], bytes] = fetch_url
    clock: Callable[[], float] = time.time
    _keys: dict[str, Any] = attrs.field(factory=dict, init=False)
    _fetched_at: float | None = attrs.field(default=None, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def verify(self, token: str) -> Principal:
        return self.verify_session(token)[0]

    def verify_session(self, token: str) -> tuple[Principal, int]:
        """The principal and the token's `exp` (epoch seconds), for the session it opens."""
        claims = self.claims(token)
        use = claims["token_use"]
        username = claims.get("cognito:username") if use == "id" else claims.get("username")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not isinstance(username, str) or not sub or not username:
            raise Unauthorized("invalid or expired token")
        return Principal(user_id=sub, username=username), int(claims["exp"])

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of a token (what API Gateway's JWT authorizer passes on)."""
        try:
            return self._claims(token)
        except Unauthorized:
            raise
        except Exception as error:  # noqa: BLE001 - any decoding failure is a refusal
            _log.info("token_refused", reason=type(error).__name__)
            raise Unauthorized("invalid or expired token") from None

    def _claims(self, token: str) -> dict[str, Any]:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise Unauthorized("invalid or expired token")
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        if header.get("alg") != "RS256" or not isinstance(kid, str) or not kid:
            _log.info("token_refused", reason="bad_header")
            raise Unauthorized("invalid or expired token")
        key = self._key(kid)
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=self.issuer,
            leeway=self.leeway_s,
            options={"require": ["exp", "iat", "sub", "token_use"], "verify_aud": False},
        )
        use = claims.get("token_use")
        audience = claims.get("aud") if use == "id" else claims.get("client_id")
        if use not in self.token_uses or audience != self.client_id:
            _log.info("token_refused", reason="wrong_use_or_audience")
            raise Unauthorized("invalid or expired token")
        return claims

    def _key(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys and self._may_refresh():
                self._refresh()
            key = self._keys.get(kid)
        if key is None:
            _log.info("token_refused", reason="unknown_kid")
            raise Unauthorized("invalid or expired token")
        return key

    def _may_refresh(self) -> bool:
        return self._fetched_at is None or (
            self.clock() - self._fetched_at >= self.refresh_interval_s
        )

    def _refresh(self) -> None:
        self._fetched_at = self.clock()
        url = self.jwks_url or f"{self.issuer}/.well-known/jwks.json"
        try:
            document = json.loads(self.fetch(url))
        except Exception as error:  # noqa: BLE001 - an unreachable JWKS refuses, never crashes
            _log.warning("jwks_fetch_failed", error=type(error).__name__)
            return
        keys = {}
        for entry in document.get("keys", []):
            if entry.get("kty") == "RSA" and isinstance(entry.get("kid"), str):
                keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256").key
        self._keys = keys
