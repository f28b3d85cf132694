"""EventBridge on loopback: the scheduled functions and the CloudTrail-driven rule.

In the cloud (infra/sessions.py) a schedule rule invokes each function with `schedule_s`
(routes.py) at that rate, and a rule on the revoking Cognito calls (revocation.py) invokes
lambdas/session_revoked.py. Here the gateway's event loop does both with the same event shapes,
through `Gateway.call`, so every invocation runs under its function's IAM policy and timeout.
Both are asynchronous, as EventBridge is: the caller never waits for the target.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

import structlog

from dynamotalk.local import aws_sessions
from dynamotalk.local.events import ACCOUNT, REGION
from dynamotalk.routes import FUNCTIONS, SESSION_REVOKED, function_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from dynamotalk.local.gateway import Gateway

_log = structlog.get_logger("dynamotalk.schedules")


def scheduled_event(stage: str, module: str) -> dict[str, Any]:
    """What EventBridge Scheduler's rule target receives ("Scheduled Event")."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{function_name(stage, module)}-schedule"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": now,
        "region": REGION,
        "resources": [rule],
        "detail": {},
    }


async def _every(gateway: Gateway, module: str, interval_s: float) -> None:
    from dynamotalk.local.gateway import InvocationError

    while True:
        await asyncio.sleep(interval_s)
        with contextlib.suppress(InvocationError):  # logged by call(); the next run catches up
            await gateway.call(module, scheduled_event(gateway.stage, module))


def start(gateway: Gateway, intervals: dict[str, float] | None = None) -> Callable[[], None]:
    """Run the scheduled functions and deliver revoking calls' events, on the running loop.

    `intervals` overrides a function's schedule (seconds) for tests; returns `stop`.
    """
    loop = asyncio.get_running_loop()
    tasks = [
        loop.create_task(_every(gateway, f.module, (intervals or {}).get(f.module, f.schedule_s)))
        for f in FUNCTIONS
        if f.schedule_s is not None
    ]

    def deliver(event: dict[str, Any]) -> None:  # called on LocalAws's request thread
        async def invoke() -> None:
            from dynamotalk.local.gateway import InvocationError

            with contextlib.suppress(InvocationError):
                await gateway.call(SESSION_REVOKED, event)

        asyncio.run_coroutine_threadsafe(invoke(), loop)

    unlisten = aws_sessions.listen(deliver)

    def stop() -> None:
        unlisten()
        for task in tasks:
            task.cancel()

    return stop
