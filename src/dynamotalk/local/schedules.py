"""EventBridge on loopback: the scheduled functions and the CloudTrail-driven rule.

In the cloud (infra/sessions.py) a schedule rule invokes each function with `schedule_s`
(routes.py) at that rate, and a rule on the revoking Cognito calls (revocation.py) invokes
lambdas/session_revoked.py. Here the gateway's event loop does both with the same event shapes
(events.scheduled_event), through the gateway's `Functions.call`, so every invocation runs
under its function's IAM policy and timeout. Both are asynchronous, as EventBridge is: the
caller never waits for the target.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from dynamotalk.local import aws_sessions
from dynamotalk.local.events import scheduled_event
from dynamotalk.local.gateway.invoke import Functions, InvocationError
from dynamotalk.routes import FUNCTIONS
from dynamotalk.workers import SESSION_REVOKED


async def _every(functions: Functions, module: str, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        with contextlib.suppress(InvocationError):  # logged by call(); the next run catches up
            await functions.call(module, scheduled_event(functions.stage, module))


def start(functions: Functions, intervals: dict[str, float] | None = None) -> Callable[[], None]:
    """Run the scheduled functions and deliver revoking calls' events, on the running loop.

    `intervals` overrides a function's schedule (seconds) for tests; returns `stop`.
    """
    loop = asyncio.get_running_loop()
    tasks = [
        loop.create_task(_every(functions, f.module, (intervals or {}).get(f.module, f.schedule_s)))
        for f in FUNCTIONS
        if f.schedule_s is not None
    ]

    def deliver(event: dict[str, Any]) -> None:  # called on LocalAws's request thread
        async def invoke() -> None:
            with contextlib.suppress(InvocationError):
                await functions.call(SESSION_REVOKED, event)

        asyncio.run_coroutine_threadsafe(invoke(), loop)

    unlisten = aws_sessions.listen(deliver)

    def stop() -> None:
        unlisten()
        for task in tasks:
            task.cancel()

    return stop
