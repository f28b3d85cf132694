"""$disconnect: forget the connection; the user goes offline with their last one."""

from __future__ import annotations

from typing import Any

from dynamotalk import bootstrap
from dynamotalk.domain.errors import ChatError
from dynamotalk.edge.events import WebSocketEvent
from dynamotalk.edge.failures import unexpected
from dynamotalk.logging import invocation
from lambdas import initialized

SERVICE = bootstrap.service()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    view = WebSocketEvent(event)
    with invocation(route="$disconnect", request_id=view.request_id) as log:
        try:
            log["connection_id"] = view.connection_id
            SERVICE.disconnect(view.connection_id)
        except ChatError as error:
            log["outcome"] = str(error.code)
        except Exception as error:  # noqa: BLE001 - the connection is gone either way; TTL cleans up
            unexpected(error, log)
        return {"statusCode": 200}


initialized()
