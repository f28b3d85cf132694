"""REQUEST authorizer for the WebSocket $connect route.

The token comes in the `token` query parameter only: that is the cloud's identity source
(`route.request.querystring.token`, infra/websocket_api.py), and API Gateway refuses a connect
without it with 401 before this function runs. A token offered any other way (a
Sec-WebSocket-Protocol value, a header) is not read, locally either. Refusal raises
"Unauthorized", which API Gateway turns into a 401 on the upgrade.
"""

from __future__ import annotations

from typing import Any

from dynamotalk import bootstrap
from dynamotalk.domain.errors import ChatError, ErrorCode
from dynamotalk.edge.events import WebSocketEvent
from dynamotalk.logging import invocation
from dynamotalk.routes import TOKEN_PARAM
from lambdas import initialized

IDENTITY = bootstrap.identity()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    view = WebSocketEvent(event)
    with invocation(route="$connect:authorize", request_id=view.request_id) as log:
        token = view.query(TOKEN_PARAM)  # the identity source; nothing else is read
        if not token:
            log["outcome"] = str(ErrorCode.UNAUTHORIZED)
            raise PermissionError("Unauthorized")
        try:
            principal, expires_at = IDENTITY.verify_session(token)
        except ChatError as error:
            log["outcome"] = str(error.code)
            raise PermissionError("Unauthorized") from None
        log["user_id"] = principal.user_id
        return {
            "principalId": principal.user_id,
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": view.method_arn}
                ],
            },
            # `exp` rides on every frame of the socket: the session ends with the token.
            "context": {
                "userId": principal.user_id,
                "username": principal.username,
                "exp": expires_at,
            },
        }


initialized()
