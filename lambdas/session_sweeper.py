"""Every minute (EventBridge schedule): close the sockets whose session ended (sessions.py)."""

from __future__ import annotations

from typing import Any

from dynamotalk import bootstrap
from dynamotalk.edge.failures import unexpected
from dynamotalk.logging import invocation
from lambdas import initialized

SESSIONS = bootstrap.sessions()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    with invocation(route="schedule:session_sweeper", request_id=str(event.get("id", ""))) as log:
        try:
            closed = SESSIONS.sweep()
        except Exception as error:  # the next run looks back over this window
            unexpected(error, log)
            raise
        log["closed"] = closed
        return {"closed": closed}


initialized()
