"""The local gateway: one ASGI app that plays API Gateway (WebSocket + HTTP + management API)
and a Cognito front door, calling the very same lambdas/ handlers the cloud runs; and a second
app that serves the web client from its own origin, as CloudFront does.

API origin (`Gateway.app()`, app.py):
- `GET /ws`, the WebSocket API (websocket.py), its connections' outbound queues, timers and
  close codes (connections.py);
- `POST/GET/DELETE /@connections/{id}`, the management API (management.py), which `dynamotalk
  dev` also serves on a port and a thread of its own for the stage's notifier
  (management_server.py, `Gateway.management_port`), so posts never queue behind this loop;
- `/api/...`, the HTTP API with its JWT authorizer and CORS (http.py);
- `POST /cognito`, the Cognito front door that runs the triggers moto does not (cognito.py);
- local-only conveniences: `/config.json` (for the terminal client), `/health`, `/_local/...`
  (`POST /_local/schedules/{module}` runs a scheduled function now, as its EventBridge rule
  would; local/schedules.py runs them on their schedule).
Every handler runs as Lambda would (invoke.py); AWS's size limits meet the network in
limits.py; only loopback Host names and no browser on the hooks get in (guards.py).

Web origin (`Gateway.web_app()`): web/ and a `/config.json` pointing at the API origin.

Where AWS's documentation is silent the gateway picks the stricter behaviour (docs/LOCAL.md).
"""

from dynamotalk.local.gateway.app import Gateway
from dynamotalk.local.gateway.invoke import Functions, InvocationError, import_handler
from dynamotalk.local.gateway.limits import uvicorn_options

__all__ = ["Functions", "Gateway", "InvocationError", "import_handler", "uvicorn_options"]
