"""config.json: what a stage tells its clients (the web client, `dynamotalk chat`, the MCP
server). The local gateway and the Pulumi program both write it through `stage_config`, so the
local stack and a deployed stage publish the same keys; the clients check `REQUIRED`."""

from __future__ import annotations

from dynamotalk.domain.authz import LOWEST_ROLE, ON_OTHERS
from dynamotalk.domain.events import ROOM_CHANGE_TYPES
from dynamotalk.domain.identities import USERNAME_MAX, USERNAME_MIN
from dynamotalk.domain.limits import (
    MAX_ROOM_IDS,
    RECONNECT_BASE_MS,
    RECONNECT_CAP_MS,
    UNREAD_CAP,
    Limits,
)
from dynamotalk.domain.models import Role
from dynamotalk.domain.retention import RETENTION_CHOICES_DAYS
from dynamotalk.domain.search import SEARCH_MAX_QUERY_CHARS
from dynamotalk.quotas import CLIENT_PING_INTERVAL_S
from dynamotalk.routes import CLIENT_ACTIONS

REQUIRED = frozenset({"wsUrl", "httpUrl", "userPoolClientId", "region"})
"""The keys every client needs."""


def stage_config(
    *,
    ws_url: object,
    http_url: object,
    cognito_url: object,
    region: object,
    user_pool_id: object,
    user_pool_client_id: object,
    stage: object,
    max_message_chars: int,
    min_password: int,
    lobby: str | None = None,
    rum: dict[str, object] | None = None,
) -> dict[str, object]:
    """config.json's content. Values are `object`: the Pulumi program passes Outputs, which
    `pulumi.Output.json_dumps` resolves; the local gateway passes strings. `max_message_chars`
    is the stage's own (`maxMessageChars`), which may be below the domain's ceiling, and
    `min_password` its user pool's (longer on protected stages). `lobby`: the id of the public
    room a new user lands in (the web client joins and opens it on the first run), where the
    stage has one (the local stack's `DEMO_ROOM`); absent elsewhere. `rum`: the real-user
    monitoring block (dynamotalk/rum.client_rum_config) on a stage with `rum: true`; absent
    elsewhere (the local stack), and then the web client loads nothing of RUM."""
    return {
        "wsUrl": ws_url,
        "httpUrl": http_url,
        "cognitoUrl": cognito_url,
        "region": region,
        "userPoolId": user_pool_id,
        "userPoolClientId": user_pool_client_id,
        "stage": stage,
        "actions": CLIENT_ACTIONS,
        "limits": client_limits(max_message_chars, min_password),
        "changeTypes": list(ROOM_CHANGE_TYPES),
        "permissions": client_permissions(),
        **({"lobby": lobby} if lobby is not None else {}),
        **({"rum": rum} if rum is not None else {}),
    }


def client_limits(max_message_chars: int, min_password: int) -> dict[str, object]:
    """config.json `limits`: the bounds the web client's forms and requests keep to, so it
    never offers what the server refuses (the server checks every one of them again), and
    the pace of its socket: a `ping` every `pingIntervalSeconds`, reconnects backing off
    from `reconnectBaseMs` up to `reconnectCapMs` with full jitter (docs/WEB.md)."""
    limits = Limits()
    return {
        "maxText": max_message_chars,
        "maxRoomName": limits.max_room_name,
        "maxDisplayName": limits.max_display_name,
        "usernameMin": USERNAME_MIN,
        "usernameMax": USERNAME_MAX,
        "minPassword": min_password,
        "avatarTypes": sorted(limits.avatar_content_types),
        "pageSizeMax": limits.page_size_max,
        "roomIdsPerFrame": MAX_ROOM_IDS,
        "unreadCap": UNREAD_CAP,
        "pingIntervalSeconds": CLIENT_PING_INTERVAL_S,
        "reconnectBaseMs": RECONNECT_BASE_MS,
        "reconnectCapMs": RECONNECT_CAP_MS,
        "searchMaxChars": SEARCH_MAX_QUERY_CHARS,  # issue 18: GET /search's `q`
        "retentionChoices": list(RETENTION_CHOICES_DAYS),
    }


def client_permissions() -> dict[str, object]:
    """config.json `permissions`: the permission table (`domain/authz.LOWEST_ROLE`: act ->
    room kind -> the lowest role allowed, `null` for nobody), the roles' ranks, and the acts
    done to another member (`onOthers`: the actor must also outrank them). The web client
    offers a menu item only where the table allows it; the server checks every act again."""
    return {
        "roles": {role.value: role.rank for role in Role},
        "lowestRole": {
            act.value: {kind.value: (role.value if role else None) for kind, role in kinds.items()}
            for act, kinds in LOWEST_ROLE.items()
        },
        "onOthers": sorted(act.value for act in ON_OTHERS),
    }
