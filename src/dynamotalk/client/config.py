"""Where a client finds a stage: its `config.json`, checked before a password goes anywhere.

`cognito_url_problem`: which Cognito endpoint a client may send a password to, whatever a
config.json says. The terminal client and the MCP server read a stage's `config.json` (from a
URL or a file) and send the user's password to its `cognitoUrl`. A config from a compromised or
look-alike origin could point that at any host, over plain http. So the clients accept only:

- Cognito's own regional endpoint for the config's region, over https
  (`https://cognito-idp.{region}.amazonaws.com/`, what a deployed stage's config names); or
- an endpoint on the host the config came from (the local stack's `/cognito` front door),
  over https, or over http when that host is a loopback address.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from dynamotalk.stage_config import REQUIRED
from dynamotalk.userpool import cognito_host

LOOPBACK_NAMES = frozenset({"localhost"})


class ChatClientError(Exception):
    """A clear, user-facing failure (bad config, refused sign-in, API error)."""


def load_config(url: str | None, config: str | None) -> dict[str, str]:
    """The stage's config, from a local stack's base `url` or a `config` URL or path."""
    source = config or (f"{url.rstrip('/')}/config.json" if url else None)
    if source is None:
        raise ChatClientError("give --url of a local stack or --config of a stage's config.json")
    try:
        if source.startswith(("http://", "https://")):
            data: dict[str, str] = httpx.get(source, timeout=10).raise_for_status().json()
        else:
            data = json.loads(Path(source).read_text())
    except (httpx.HTTPError, OSError, ValueError) as error:
        raise ChatClientError(f"cannot read config from {source}: {error}") from None
    missing = REQUIRED - set(data)
    if missing:
        raise ChatClientError(f"config {source} lacks {sorted(missing)}")
    if data.get("cognitoUrl") is not None:
        remote = source.startswith(("http://", "https://"))
        origin = urlsplit(source if remote else str(data["httpUrl"])).hostname
        problem = cognito_url_problem(str(data["cognitoUrl"]), str(data["region"]), origin)
        if problem is not None:
            raise ChatClientError(f"refusing config {source}: {problem}")
    return data


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cognito_url_problem(cognito_url: str, region: str, origin_host: str | None) -> str | None:
    """Why the clients refuse `cognito_url`, or None when they may use it.

    `origin_host` is the host the config came from (for a file, the host of its `httpUrl`)."""
    parts = urlsplit(cognito_url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        return f"cognitoUrl {cognito_url!r} is not an http(s) URL"
    if parts.username is not None or parts.password is not None:
        return "cognitoUrl must not carry credentials"
    if parts.scheme == "http" and not is_loopback(host):
        return f"cognitoUrl {cognito_url!r} uses plain http (allowed on loopback only)"
    if host.lower() == cognito_host(region).lower() and parts.scheme == "https":
        return None
    if origin_host is not None and host.lower() == origin_host.lower():
        return None
    return (
        f"cognitoUrl {cognito_url!r} is neither Cognito's endpoint for {region} "
        f"nor on the host the config came from ({origin_host or 'unknown'})"
    )
