"""The web client's security headers: one set, served by CloudFront's response headers policy
(infra/storage_web.py) and by the local stack's web origin (local/gateway/app.py `Gateway.web_app`).

The Content-Security-Policy allows no inline script or style and no eval: the page may run
only its own files (`'self'`), connect only to the origins the client really talks to (the
HTTP API, the WebSocket API, Cognito, the attachments bucket) and show images only from
itself and the bucket (avatars and attachments come as presigned S3 URLs). It cannot be
framed (clickjacking), cannot change its base URL, submit a form anywhere (every form is
handled by the client's modules) or load plugins. Everything else falls back to
`default-src 'none'`.

A stage with `rum: true` adds the RUM web client's script origin and the origins it sends to
(`WebOrigins.scripts`, `.monitoring`, dynamotalk/rum.py); everywhere else they are empty.

HSTS makes browsers use https for the site from then on; on the local stack's loopback http
origin browsers ignore it (RFC 6797 section 8.1: a Strict-Transport-Security header received
over plain http is not acted on), and the local stack sends it anyway so its headers are the
cloud's. nosniff stops browsers guessing a script out of an upload's bytes, and no Referer
leaves the page (its URLs carry nothing a third party needs).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

HSTS_MAX_AGE_S = 31_536_000
"""One year: what browsers' HSTS preload lists ask for as a minimum."""
HSTS_INCLUDE_SUBDOMAINS = True
FRAME_OPTIONS = "DENY"
REFERRER_POLICY = "no-referrer"


def bucket_origins(bucket: str, region: str) -> tuple[str, str]:
    """Where browsers reach the attachments bucket: the global virtual-hosted name botocore
    presigns with (signature v4), and the regional one S3 redirects a new bucket's requests to."""
    return (f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{region}.amazonaws.com")


def execute_api_hosts(region: str) -> str:
    """Every HTTP API of the region. The stage's own HTTP API cannot be named exactly: its CORS
    rule needs the distribution's domain, so it is created after the distribution, whose
    response headers policy would need the API's URL first (docs/SECURITY.md, residual risks)."""
    return f"https://*.execute-api.{region}.amazonaws.com"


@attrs.frozen
class WebOrigins:
    """The origins the web client talks to; each a CSP source like `https://host[:port]`."""

    api: str
    """The HTTP API (the local stack's gateway also serves /cognito from it)."""
    websocket: str
    """The WebSocket API: `wss://...` (`ws://...` on loopback)."""
    cognito: str
    """Cognito's JSON API."""
    files: tuple[str, ...] = ()
    """The attachments bucket: presigned POST uploads and presigned GET downloads."""
    scripts: tuple[str, ...] = ()
    """Scripts from elsewhere than the page's origin: the pinned RUM web client as its full URL,
    only on a stage with `rum: true` (dynamotalk/rum.py); none otherwise. A source whose path
    does not end in `/` matches that one file (CSP Level 3's path-part match,
    w3.org/TR/CSP3), so no other file on AWS's CDN may run."""
    monitoring: tuple[str, ...] = ()
    """Where real-user monitoring sends data and gets its guest credentials (RUM's data plane,
    Cognito Identity, STS): only with `rum: true`."""

    def connect(self) -> list[str]:
        return _unique(
            ["'self'", self.api, self.websocket, self.cognito, *self.files, *self.monitoring]
        )

    def script_sources(self) -> list[str]:
        return _unique(["'self'", *self.scripts])

    def images(self) -> list[str]:
        return _unique(["'self'", *self.files])


def _unique(sources: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for source in sources:
        if source and source not in seen:
            seen.append(source)
    return seen


def content_security_policy(origins: WebOrigins) -> str:
    """The CSP header value for the web client served next to these origins."""
    directives = {
        "default-src": ["'none'"],
        "script-src": origins.script_sources(),
        "style-src": ["'self'"],
        "img-src": origins.images(),
        "connect-src": origins.connect(),
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "object-src": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


@attrs.frozen
class SecurityHeaders:
    """The headers every response of the web origin carries."""

    content_security_policy: str
    hsts_max_age_s: int = HSTS_MAX_AGE_S
    hsts_include_subdomains: bool = HSTS_INCLUDE_SUBDOMAINS
    frame_options: str = FRAME_OPTIONS
    referrer_policy: str = REFERRER_POLICY

    @property
    def strict_transport_security(self) -> str:
        value = f"max-age={self.hsts_max_age_s}"
        return f"{value}; includeSubDomains" if self.hsts_include_subdomains else value

    def as_http(self) -> dict[str, str]:
        """Header name -> value, as a browser receives them."""
        return {
            "Content-Security-Policy": self.content_security_policy,
            "Strict-Transport-Security": self.strict_transport_security,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": self.frame_options,
            "Referrer-Policy": self.referrer_policy,
        }


def security_headers(origins: WebOrigins) -> SecurityHeaders:
    return SecurityHeaders(content_security_policy=content_security_policy(origins))


def source_of(url: str) -> str:
    """`wss://abc.execute-api.eu-west-1.amazonaws.com/dev` -> `wss://abc.execute-api...com`:
    the scheme and host (and a port other than the default) of an http(s) or ws(s) URL."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    default = {"http": 80, "ws": 80, "https": 443, "wss": 443}.get(scheme)
    if default is None or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) or ws(s) URL")
    port = "" if parts.port in (None, default) else f":{parts.port}"
    return f"{scheme}://{parts.hostname}{port}"
