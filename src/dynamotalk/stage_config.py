"""config.json: what a stage tells its clients (the web client, `dynamotalk chat`, the MCP
server). The local gateway and the Pulumi program both write it through `stage_config`, so the
local stack and a deployed stage publish the same keys; the clients check `REQUIRED`."""

from __future__ import annotations

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
) -> dict[str, object]:
    """config.json's content. Values are `object`: the Pulumi program passes Outputs, which
    `pulumi.Output.json_dumps` resolves; the local gateway passes strings."""
    return {
        "wsUrl": ws_url,
        "httpUrl": http_url,
        "cognitoUrl": cognito_url,
        "region": region,
        "userPoolId": user_pool_id,
        "userPoolClientId": user_pool_client_id,
        "stage": stage,
        "actions": CLIENT_ACTIONS,
    }
