"""The chat bot participant: answers `@bot` mentions (in rooms it belongs to) and direct
messages, using an Assistant (Bedrock in the cloud, a deterministic one locally).

The sender never waits for the model: ChatService hands a job (room id, message id) to a
BotJobs queue; a worker calls `BotWorker.answer`, which shows typing, reads the room's recent
messages as context, asks the assistant under a timeout and a circuit breaker, and posts the
reply as an ordinary message (stored, fanned out, in history). On failure it posts a short
apology instead of nothing. The reply's client id is derived from the request's id, so a job
delivered twice (queues are at-least-once) still yields one reply.
"""

from __future__ import annotations

import concurrent.futures
import functools
import queue
import threading
import time
from collections.abc import Callable

import attrs
import structlog

from dynamotalk import metrics
from dynamotalk.domain.bot import (
    APOLOGY,
    BREAKER_COOLDOWN_S,
    BREAKER_THRESHOLD,
    MODEL_TIMEOUT_S,
)
from dynamotalk.domain.models import Message
from dynamotalk.ports import Assistant
from dynamotalk.resilience import CircuitBreaker
from dynamotalk.service import BotRequest, ChatService

_log = structlog.get_logger("dynamotalk.bot")


@attrs.define
class BotWorker:
    service: ChatService
    assistant: Assistant
    context_size: int = 20
    timeout_s: float = MODEL_TIMEOUT_S
    breaker: CircuitBreaker = attrs.Factory(
        lambda: CircuitBreaker(threshold=BREAKER_THRESHOLD, cooldown_s=BREAKER_COOLDOWN_S)
    )
    _pool: concurrent.futures.ThreadPoolExecutor = attrs.Factory(
        lambda: concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="assistant")
    )

    def answer(self, room_id: str, message_id: str) -> Message | None:
        """Answer one bot job: the reply as posted, or None when there was nothing to answer."""
        request = self.service.open_bot_request(room_id, message_id, self.context_size)
        if request is None:
            return None
        text = self._ask(request)
        return self.service.post_bot_answer(room_id, message_id, text)

    def _ask(self, request: BotRequest) -> str:
        """The model's answer, or an apology; either way counted on the job's own thread:
        BotLatencyMs per model call, BotFailures 1 per apology and 0 per answer (so its
        SampleCount is the jobs and its Average the failure ratio, infra/business_metrics.py)."""
        text = self._ask_model(request)
        metrics.record(metrics.Metric.BOT_FAILURES, 0 if text else 1)
        return text or APOLOGY

    def _ask_model(self, request: BotRequest) -> str:
        if not self.breaker.allows():
            return ""
        started = time.perf_counter()
        future = self._pool.submit(
            self.assistant.reply, list(request.context), request.message, request.names
        )
        try:
            text = future.result(timeout=self.timeout_s).strip()
        except Exception:  # noqa: BLE001 - timeout, throttling, bad reply: all an apology
            self.breaker.record(False)
            return ""
        finally:
            metrics.record(metrics.Metric.BOT_LATENCY_MS, (time.perf_counter() - started) * 1000)
        self.breaker.record(bool(text))
        return text


def _run_now(job: Callable[[], object]) -> None:
    job()


@attrs.define
class ThreadBotJobs:
    """BotJobs in the local stack: an in-process queue drained by one background thread."""

    worker: Callable[[], BotWorker]
    """Builds the worker on first use (it needs the finished ChatService)."""
    run_job: Callable[[Callable[[], object]], None] = attrs.field(default=_run_now)
    """Runs one job; the local stack runs it as the bot_worker function would run."""
    _queue: queue.Queue[tuple[str, str]] = attrs.Factory(queue.Queue)
    _thread: threading.Thread | None = None

    def enqueue(self, room_id: str, message_id: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="bot", daemon=True)
            self._thread.start()
        self._queue.put((room_id, message_id))

    def _drain(self) -> None:
        worker = self.worker()
        while True:
            room_id, message_id = self._queue.get()
            try:
                self.run_job(functools.partial(worker.answer, room_id, message_id))
            except Exception:  # noqa: BLE001 - one bad job must not stop the bot
                _log.exception("bot_job_failed", room_id=room_id, message_id=message_id)


def local_bot_jobs(service: Callable[[], ChatService], breaker: CircuitBreaker) -> ThreadBotJobs:
    """The bot of the local stack: an in-process queue and the deterministic echo assistant.
    Its worker is built on the first job, from the finished service."""
    from dynamotalk.adapters.bedrock import EchoAssistant

    def as_bot_worker(job: Callable[[], object]) -> None:
        # In the cloud the bot_worker function answers; locally each job runs under its
        # identity, so the local IAM check applies the bot worker's policy.
        import contextvars

        from dynamotalk.local.invocation import current_function

        def run() -> None:
            current_function.set("bot_worker")
            job()

        contextvars.Context().run(run)

    return ThreadBotJobs(
        lambda: BotWorker(service(), EchoAssistant(), breaker=breaker), run_job=as_bot_worker
    )
