"""What a stage's `config.json` tells the clients, and which Cognito endpoint they may trust.

`ACTIONS` is the `actions` object of the config.json the local stack and infra publish: the web
client takes every WebSocket action name from it and spells none itself.

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
from urllib.parse import urlsplit

from dynamotalk import wire

ACTIONS: dict[str, str] = {cls.__name__: action for action, cls in wire.COMMANDS.items()}
"""config.json `actions`: each WebSocket command's action name by the command's class name
(`{"SendMessage": "sendMessage", ...}`), so the web client sends `{action: actions.SendMessage}`."""

LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cognito_host(region: str) -> str:
    return f"cognito-idp.{region}.amazonaws.com"


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
