"""Which browser origins may call the HTTP API and upload to the attachments bucket.

One rule for the cloud and the local stack: the origins the web client is served from (on AWS,
CloudFront's own domain and the custom domain; locally, the gateway's web address) are always
allowed, plus the stage's extra `corsOrigins` (a developer's local client, say). Nothing else:
no wildcard, so a page on another site cannot drive a signed-in user's session.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")


def origin_of(url: str) -> str:
    """`https://D111.cloudfront.net/index.html` -> `https://d111.cloudfront.net`.

    The serialized origin a browser sends: scheme and host lowercased, the default port
    dropped. Refuses anything that is not an http(s) URL with a host.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError(f"{url!r} has an invalid port") from None
    if scheme not in _DEFAULT_PORTS or not host or not _HOST.fullmatch(host):
        raise ValueError(f"{url!r} is not an http(s) origin like https://chat.example.com")
    if parts.username or parts.password:
        raise ValueError(f"{url!r} must not carry credentials")
    shown_port = "" if port in (None, _DEFAULT_PORTS[scheme]) else f":{port}"
    return f"{scheme}://{host}{shown_port}"


def allowed_origins(served_from: Iterable[str], configured: Iterable[str]) -> list[str]:
    """The web client's own origins first, then the configured extras; normalized, no repeats.

    `served_from` are URLs (or bare origins) the web client is served at; `configured` the
    stage's extra origins. Raises ValueError naming the first value that is not an origin.
    """
    allowed: list[str] = []
    for url in (*served_from, *configured):
        origin = origin_of(url)
        if origin not in allowed:
            allowed.append(origin)
    return allowed
