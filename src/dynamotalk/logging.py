"""structlog, configured once per process: JSON lines in Lambda, readable console locally.

Each invocation binds its context (request id, route, connection id, user id, action) into
structlog's context variables, so every line logged during it, by any module, carries them, and
ends with one canonical line carrying the outcome and duration. Tokens and message text are never
logged.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO, cast

import structlog

from dynamotalk import metrics

_configured = False
_cold = True


class _Stdout:
    """sys.stdout as it is when a line is written, not as it was when logging was configured:
    a process that swaps sys.stdout later (pytest's capture, a supervisor) still gets the lines."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def configure(
    json_logs: bool | None = None, level: int = logging.INFO, *, again: bool = False
) -> None:
    """Configure structlog once; JSON when running in Lambda unless told otherwise.

    `again`: configure even if done before (a test process that hosts the handlers after other
    code configured console logs first)."""
    global _configured
    if _configured and not again:
        return
    if json_logs is None:
        json_logs = "AWS_LAMBDA_FUNCTION_NAME" in os.environ
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_logs
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(cast("TextIO", _Stdout())),
        cache_logger_on_first_use=True,
    )
    _configured = True


CONTEXT_KEYS = frozenset({"route", "request_id", "connection_id", "user_id", "action"})
"""Who and what an invocation is about: bound into the context of every line it logs."""


class Canonical(dict[str, Any]):
    """The invocation's canonical line. Setting a `CONTEXT_KEYS` field also binds it, so the
    lines logged after the handler learns the caller (or the action) carry it too."""

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        _bind({key: value})

    def update(self, *args: Any, **fields: Any) -> None:
        changes = dict(*args, **fields)
        super().update(changes)
        _bind(changes)


def _bind(fields: dict[str, Any]) -> None:
    context = {k: v for k, v in fields.items() if k in CONTEXT_KEYS and v is not None}
    if context:
        structlog.contextvars.bind_contextvars(**context)


@contextmanager
def invocation(**context: Any) -> Iterator[Canonical]:
    """Bind per-invocation context and emit one canonical line when it ends.

    The yielded dict is for the handler to add `outcome` (ok / error code) and more fields;
    the identity fields it adds (`CONTEXT_KEYS`) are bound for every later line as well.
    """
    global _cold
    structlog.contextvars.clear_contextvars()
    _bind(context)
    result = Canonical(outcome="ok", cold_start=_cold)
    _cold = False
    started = time.perf_counter()
    try:
        with metrics.tallied():
            yield result
    finally:
        result["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
        structlog.get_logger("dynamotalk").info("invocation", **result)
