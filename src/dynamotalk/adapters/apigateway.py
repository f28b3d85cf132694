"""The Notifier on AWS: PostToConnection through API Gateway's management API.

One event is encoded once and posted to every connection concurrently through a bounded thread
pool (created once per container) whose size matches the boto3 client's connection pool. 410
Gone is reported back (the service deletes those connections in one batch). An error about one
payload or one recipient (413 PayloadTooLarge, 400, 403) is final at once: reported as failed,
never retried, never counted against the endpoint. Endpoint-wide failures (5xx, 429 and
throttling, timeouts, connection errors) are retried with jittered exponential backoff a bounded
number of times, then reported as failed and logged, and only they feed the circuit breaker: one
room's bad payload or a stale recipient cannot stop another room's delivery. The sender's
request never fails because a recipient did.

How a post travels is a `Poster`, the only part that differs between the two transports: the
botocore client's `post_to_connection` (`BotocorePoster`), or the lean path
(adapters/management_http.py: botocore's credentials and SigV4 signer, the request built and
sent over a keep-alive connection per worker thread, 2.5-3x less CPU per post, issue 16). Both
answer a `Reply` (status and error code as botocore would parse them), and the notifier maps
replies to outcomes, retries and the breaker identically for both.
"""

from __future__ import annotations

import contextvars
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

import attrs
import structlog
from botocore.exceptions import BotoCoreError, ClientError

from dynamotalk.domain.events import Event
from dynamotalk.domain.models import SendReport
from dynamotalk.resilience import CircuitBreaker

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient

    from dynamotalk.settings import ManagementTransport

_log = structlog.get_logger("dynamotalk.notifier")
DEFAULT_POOL = 32

Outcome = Literal["delivered", "gone", "refused", "failed"]
"""`refused`: API Gateway turned down this payload or this recipient (a 4xx other than 410 and
429); `failed`: the endpoint itself failed (5xx, throttling, timeouts, connection errors)."""
_ENDPOINT_ERRORS = frozenset(
    {"ThrottlingException", "LimitExceededException", "TooManyRequestsException"}
)


class Reply(NamedTuple):
    """One PostToConnection's answer: the HTTP status and the error code botocore would parse
    (x-amzn-ErrorType, else the body's __type, else the status); status None when no answer
    came (timeout, connection error) and `code` names the error."""

    status: int | None
    code: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


Post = Callable[[str, bytes], Reply]
"""connection id, payload -> the endpoint's reply (never raises for the endpoint's faults)."""


class Poster(Protocol):
    """How posts reach the management API."""

    def fan_out(self) -> Post:
        """The post function of one fan-out: credentials are resolved once for all its posts
        (a fan-out lasts seconds; refreshable credentials are fresh for minutes)."""
        ...


@attrs.frozen
class BotocorePoster:
    """Posts through the botocore client (the way before issue 16; the switch back)."""

    client: ApiGatewayManagementApiClient

    def fan_out(self) -> Post:
        return self.post

    def post(self, connection_id: str, payload: bytes) -> Reply:
        try:
            self.client.post_to_connection(ConnectionId=connection_id, Data=payload)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return Reply(status if isinstance(status, int) else None, code)
        except BotoCoreError as exc:
            return Reply(None, type(exc).__name__)
        return Reply(200)


def management_poster(
    client: ApiGatewayManagementApiClient, credentials: Any, transport: ManagementTransport = "lean"
) -> Poster:
    """The poster of `transport` over the management client (`client`: its endpoint, region and
    event hooks; `credentials`: its session's botocore credentials, for the lean path)."""
    if transport == "botocore":
        return BotocorePoster(client)
    from dynamotalk.adapters.management_http import LeanPoster

    return LeanPoster.for_client(client, credentials)


def build_management_client(
    endpoint: str, region: str, pool_size: int = DEFAULT_POOL, session: Any = None
) -> ApiGatewayManagementApiClient:
    """A management API client whose HTTP pool fits the fan-out pool; retries are ours.

    `session`: the container's one boto3 session (bootstrap), so botocore's loaders, models and
    endpoint data are read once per container, not again for this client (~50-60 ms of cold
    start measured, issue 16). Without one, a new session (benchmarks, tests)."""
    import boto3
    from botocore.config import Config

    config = Config(
        max_pool_connections=pool_size,
        retries={"total_max_attempts": 1, "mode": "standard"},
        parameter_validation=False,  # we build every request ourselves; saves CPU per post
        connect_timeout=2,
        read_timeout=3,
        tcp_keepalive=True,
    )
    client: ApiGatewayManagementApiClient = (session or boto3.session.Session()).client(
        "apigatewaymanagementapi", endpoint_url=endpoint, region_name=region, config=config
    )
    return client


def _notifier_breaker() -> CircuitBreaker:
    """Endpoint-wide failures only feed it (see `_post`): 410 Gone and the refusals of one
    payload or one recipient (413, 400, 403) are facts about that post, not about the endpoint,
    or anyone able to make one oversized event could stop every room's delivery."""

    def opened(failures: int) -> None:
        _log.warning("notifier_circuit_open", failures=failures)

    return CircuitBreaker(threshold=20, cooldown_s=10.0, on_open=opened)


@attrs.define
class ApiGatewayNotifier:
    poster: Poster
    encode: Callable[[Event], bytes]
    """Event -> the bytes posted (the wire format is the caller's, never this adapter's)."""
    pool_size: int = DEFAULT_POOL
    attempts: int = 3
    """Tries per connection for transient failures (5xx, throttling, network)."""
    backoff_s: float = 0.025
    sleep: Callable[[float], None] = time.sleep
    breaker: CircuitBreaker = attrs.Factory(_notifier_breaker)
    _pool: ThreadPoolExecutor | None = attrs.field(default=None, init=False)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.pool_size, thread_name_prefix="fanout")
        return self._pool

    def send(self, connection_ids: Sequence[str], event: Event) -> SendReport:
        if not connection_ids:
            return SendReport(delivered=0)
        payload = self.encode(event)
        targets = list(dict.fromkeys(connection_ids))
        post = self.poster.fan_out()
        outcomes: list[Outcome] = ["failed"] * len(targets)
        if len(targets) == 1:
            outcomes[0] = self._post(post, targets[0], payload)
        else:
            # Up to pool_size workers each take the next target until none is left: one task
            # per worker, not per post (a future per post cost ~10% of the CPU of a lean
            # post). Each worker runs in a copy of the caller's context: log fields, and
            # locally the function whose IAM policy applies, follow the work into the pool.
            turns = iter(range(len(targets)))
            lock = threading.Lock()

            def work() -> None:
                while True:
                    with lock:
                        n = next(turns, None)
                    if n is None:
                        return
                    outcomes[n] = self._post(post, targets[n], payload)

            pool = self._executor()
            workers = min(self.pool_size, len(targets))
            futures = [pool.submit(contextvars.copy_context().run, work) for _ in range(workers)]
            for future in futures:
                future.result()
        gone = frozenset(c for c, o in zip(targets, outcomes, strict=True) if o == "gone")
        failed = frozenset(
            c for c, o in zip(targets, outcomes, strict=True) if o in ("failed", "refused")
        )
        retryable = frozenset(c for c, o in zip(targets, outcomes, strict=True) if o == "failed")
        return SendReport(
            delivered=outcomes.count("delivered"), gone=gone, failed=failed, retryable=retryable
        )

    def _post(self, post: Post, connection_id: str, payload: bytes) -> Outcome:
        if not self.breaker.allows():
            return "failed"
        outcome = self._post_with_retries(post, connection_id, payload)
        self.breaker.record({"delivered": True, "failed": False}.get(outcome))
        return outcome

    def _post_with_retries(self, post: Post, connection_id: str, payload: bytes) -> Outcome:
        error: object = None
        for attempt in range(self.attempts):
            status, code = reply = post(connection_id, payload)
            if reply.ok:
                return "delivered"
            if code == "GoneException" or status == 410:
                return "gone"
            if _about_this_post(code, status):
                _log.warning("post_to_connection_refused", connection_id=connection_id, error=code)
                return "refused"  # retrying cannot help, and the endpoint is fine
            error = code or status
            if attempt + 1 < self.attempts:
                self.sleep(self.backoff_s * 2**attempt * (0.5 + random.random()))  # noqa: S311
        _log.warning("post_to_connection_failed", connection_id=connection_id, error=str(error))
        return "failed"

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None


def _about_this_post(code: str, status: object) -> bool:
    """A 4xx that is about this payload or recipient, not the endpoint (429 is the endpoint's)."""
    if code in _ENDPOINT_ERRORS:
        return False
    if code in {"PayloadTooLargeException", "ForbiddenException", "BadRequestException"}:
        return True
    return isinstance(status, int) and 400 <= status < 500 and status != 429
