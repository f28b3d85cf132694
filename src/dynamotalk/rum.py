"""CloudWatch RUM for the web client: the one home of what the Pulumi program (infra/rum.py),
config.json (stage_config.py) and the CSP (webheaders.py) must agree on.

The web client (web/rum.js) loads AWS's RUM web client from AWS's CDN, pinned to one version,
only when config.json carries a `rum` block, i.e. only on a stage with `rum: true`. Its guest
credentials come from a Cognito identity pool's unauthenticated identities through the basic
flow (Cognito Identity GetId + GetOpenIdToken, then STS AssumeRoleWithWebIdentity on the guest
role): the flow the RUM web client uses when it is given `guestRoleArn`. The guest role may
only `rum:PutRumEvents` on the stage's app monitor.
"""

from __future__ import annotations

RUM_SCRIPT_VERSION = "1.16.2"
"""The aws-rum-web release the web client loads (its CHANGELOG: 2024-01-30). Pinned, not
`1.x`, so the code that runs is the code reviewed (and an SRI hash can name it)."""
RUM_SCRIPT_ORIGIN = "https://client.rum.us-east-1.amazonaws.com"
"""AWS's CDN for the RUM web client: one origin for every region (aws-rum-web,
docs/cdn_installation.md)."""
RUM_SCRIPT_URL = f"{RUM_SCRIPT_ORIGIN}/{RUM_SCRIPT_VERSION}/cwr.js"
RUM_NAMESPACE = "cwr"
"""The global command function the RUM web client installs (the snippet's first argument)."""
RUM_TELEMETRIES = ("errors", "performance")
"""What is recorded: unhandled JS errors, page load timing and web vitals. No `http`: it records
the URL of each failed request, and a search's URL carries the words searched (`GET /search?q=`),
which RUM must never hold. No `interaction`: no clicks."""
RUM_ALLOW_COOKIES = False
"""No `cwr_s`/`cwr_u` cookies: no visitor is recognised across page loads, so each page load is
its own RUM session (returning visitors are not counted)."""
RUM_RECORD_RESOURCE_URLS = False
"""Resource timing without URLs: avatars and attachments load from presigned S3 URLs, whose
query carries a signature that grants a download until it expires."""
RUM_APP_VERSION = "1.0.0"
"""The application version RUM tags events with (the web client is not versioned apart from
the stack)."""


def data_plane_endpoint(region: str) -> str:
    """Where the RUM web client sends events (PutRumEvents), in the app monitor's region."""
    return f"https://dataplane.rum.{region}.amazonaws.com"


def identity_origins(region: str) -> tuple[str, str]:
    """Where the basic flow gets guest credentials: Cognito Identity, then STS (the RUM web
    client's StsClient calls the regional `sts.<region>.amazonaws.com`)."""
    return (
        f"https://cognito-identity.{region}.amazonaws.com",
        f"https://sts.{region}.amazonaws.com",
    )


def client_rum_config(
    *,
    app_monitor_id: object,
    identity_pool_id: object,
    guest_role_arn: object,
    region: str,
    sample_percent: int,
    script_integrity: str | None = None,
) -> dict[str, object]:
    """config.json `rum`: everything web/rum.js hands the RUM web client. Values are `object`
    because the Pulumi program passes Outputs (resolved by `Output.json_dumps`)."""
    return {
        "appMonitorId": app_monitor_id,
        "identityPoolId": identity_pool_id,
        "guestRoleArn": guest_role_arn,
        "region": region,
        "endpoint": data_plane_endpoint(region),
        "sessionSampleRate": sample_percent / 100,
        "scriptUrl": RUM_SCRIPT_URL,
        **({"scriptIntegrity": script_integrity} if script_integrity else {}),
        "telemetries": list(RUM_TELEMETRIES),
        "allowCookies": RUM_ALLOW_COOKIES,
        "recordResourceUrl": RUM_RECORD_RESOURCE_URLS,
        "version": RUM_APP_VERSION,
    }
