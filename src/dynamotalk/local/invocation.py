"""Which function the local gateway is running right now, as Lambda would know it.

The gateway runs every handler in one process; the local IAM check and the log lines need to
know on whose behalf a call is made, so the gateway sets this around each invocation.
"""

from __future__ import annotations

from contextvars import ContextVar

current_function: ContextVar[str | None] = ContextVar("current_function", default=None)
"""The lambdas/ module being invoked (None outside an invocation)."""
