"""The one composition root: settings -> clients -> adapters -> service.

Built lazily, once per container (cold start), and shared by the modules of one process: the
Lambda functions (lambdas/) and the local stack, which runs them all in one gateway process.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from dynamotalk import erasure_root
from dynamotalk.domain.ids import UlidGenerator
from dynamotalk.logging import configure
from dynamotalk.service import ChatService
from dynamotalk.settings import ENV, STORAGE_ENV, Settings, SettingsError

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_s3 import S3Client

    from dynamotalk.adapters.cognito import CognitoIdentity
    from dynamotalk.bot import BotWorker, ThreadBotJobs
    from dynamotalk.domain.models import Principal
    from dynamotalk.ports import (
        BotJobs,
        ChangeFeed,
        ConnectionRegistry,
        EventsOut,
        MessageStore,
        PageQueue,
        RateLimiter,
        RoomStore,
        UserStore,
    )
    from dynamotalk.ports_reports import SafetyRooms
    from dynamotalk.resilience import CircuitBreaker
    from dynamotalk.service.delivery import Delivery
    from dynamotalk.service.sessions import SessionKeeper

configure()


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def _session() -> Any:
    """The container's one boto3 session, its loader knowing only the services used."""
    import boto3

    from dynamotalk.botocore_loader import botocore_session

    return boto3.session.Session(botocore_session=botocore_session(), region_name=settings().region)


def _client(service: str, endpoint: str | None) -> Any:
    """One client per service and endpoint per session (each costs 20-30 ms of cold start)."""
    return _session_client(_session(), service, endpoint)


@functools.cache
def _session_client(session: Any, service: str, endpoint: str | None) -> Any:
    from botocore.config import Config

    config = Config(
        retries={"total_max_attempts": 3, "mode": "standard"},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
        # The local gateway runs every function's threads on one client: no queue for its pool.
        max_pool_connections=LOCAL_POOL_CONNECTIONS,
        # botocore presigns S3 POST forms with SigV2 unless told otherwise, and buckets created
        # after June 2020 refuse SigV2: uploads from a deployed stage would fail.
        signature_version="s3v4" if service == "s3" else None,
    )
    return session.client(service, endpoint_url=endpoint, config=config)


LOCAL_POOL_CONNECTIONS = 64


def _in_memory() -> bool:
    """The local stack's in-memory adapters (`dynamotalk dev --in-memory`, tests)."""
    return os.environ.get(STORAGE_ENV, "dynamodb") == "memory"


def _bot_breaker() -> CircuitBreaker:
    """The bot's breaker around the model, from the stage's settings (cloud and local alike)."""
    from dynamotalk.resilience import CircuitBreaker

    s = settings()
    return CircuitBreaker(threshold=s.bot_breaker_threshold, cooldown_s=s.bot_breaker_cooldown_s)


def _stores() -> tuple[MessageStore, RoomStore, UserStore, ConnectionRegistry, ChangeFeed]:
    """The stores, and the change feed the message and room stores write with each change."""
    if _in_memory():
        from dynamotalk.adapters import memory

        feed = memory.MemoryChangeFeed()
        return (
            memory.MemoryMessageStore(feed=feed),
            memory.MemoryRoomStore(feed=feed),
            memory.MemoryUserStore(),
            memory.MemoryConnectionRegistry(),
            feed,
        )
    from dynamotalk.adapters.dynamodb import (
        DynamoConnectionRegistry,
        DynamoMessageStore,
        DynamoRoomStore,
        DynamoUserStore,
    )
    from dynamotalk.adapters.dynamodb.feed import DynamoChangeFeed

    client = _client("dynamodb", settings().dynamodb_endpoint)
    table = settings().table_name
    shared = DynamoChangeFeed(client, table)
    return (
        DynamoMessageStore(client, table, feed=shared),
        DynamoRoomStore(client, table, feed=shared),
        DynamoUserStore(client, table),
        DynamoConnectionRegistry(client, table),
        shared,
    )


def _limiter() -> RateLimiter:
    """Per-user counters next to the other items (the same table), or in memory."""
    if _in_memory():
        from dynamotalk.adapters.memory_limits import MemoryRateLimiter

        return MemoryRateLimiter()
    from dynamotalk.adapters.dynamodb_limits import DynamoRateLimiter

    return DynamoRateLimiter(
        _client("dynamodb", settings().dynamodb_endpoint), settings().table_name
    )


@functools.cache
def _management() -> ApiGatewayManagementApiClient:
    """The API Gateway management client, one per container: the session keeper closes sockets
    with it, and the notifiers post where it posts, through it (`botocore` transport) or beside
    it on the lean path (settings.MANAGEMENT_TRANSPORT_ENV). Its HTTP pool fits the fan-out's."""
    from dynamotalk.adapters.apigateway import build_management_client
    from dynamotalk.domain.limits import FANOUT_POOL

    s = settings()
    endpoint = s.management_endpoint or "http://127.0.0.1:9/no-management-endpoint"
    return build_management_client(endpoint, s.region, FANOUT_POOL, _session())


def _bot_jobs() -> BotJobs | None:
    """Where messages for the bot are queued: SQS in the cloud, a thread locally, or nowhere."""
    s = settings()
    if s.bot == "local":
        return _local_bot()
    if s.bot == "sqs" and s.bot_queue_url:
        from dynamotalk.adapters.sqs import SqsBotJobs
        from dynamotalk.botocore_loader import OnFirstUse

        sqs = OnFirstUse(lambda: _client("sqs", None))
        return SqsBotJobs(sqs, s.bot_queue_url)
    return None


@functools.cache
def service() -> ChatService:
    from dynamotalk.adapters.apigateway import ApiGatewayNotifier, management_poster
    from dynamotalk.adapters.s3 import S3AttachmentStore
    from dynamotalk.adapters.sessions import ApiGatewayCloser
    from dynamotalk.botocore_loader import OnFirstUse
    from dynamotalk.settings import management_transport, stage_limits
    from dynamotalk.wire import encode_event

    s = settings()
    messages, rooms, users, connections, feed = _stores()
    safety = cast("SafetyRooms", rooms)  # both room stores keep blocks and reports too
    s3 = OnFirstUse(lambda: _client("s3", s.s3_endpoint))
    attachments = S3AttachmentStore(cast("S3Client", s3), s.bucket_name)
    return ChatService(
        messages=messages,
        rooms=rooms,
        users=users,
        connections=connections,
        notifier=ApiGatewayNotifier(
            management_poster(_management(), _session().get_credentials(), management_transport()),
            encode_event,
        ),
        attachments=attachments,
        clock=SystemClock(),
        ids=UlidGenerator(),
        feed=feed,
        # The stage's message limit (maxMessageChars) under the domain's own ceiling.
        limits=stage_limits(s.max_message_chars, s.message_retention_days),
        bot_jobs=_bot_jobs(),
        limiter=_limiter(),
        user_limits=s.user_limits,
        closer=ApiGatewayCloser(_management()),  # a ban closes sockets (DeleteConnection)
        block_list=safety,
        reports=safety.report_store(),
        erased=erasure_root.erased,  # issue 18: asked only on a missing profile
    )


_LOCAL_DELIVERY: list[Callable[[Delivery], Delivery]] = []
"""Set by the local stack (use_local_delivery): its in-process page queue, events log, faults."""


def use_local_delivery(adapt: Callable[[Delivery], Delivery]) -> None:
    """From now on `delivery()` is `adapt` of the worker this module builds."""
    _LOCAL_DELIVERY[:] = [adapt]
    delivery.cache_clear()


@functools.cache
def delivery() -> Delivery:
    """The fan-out worker (service/delivery.py) of the fanout and fanout_pages functions: the
    service's registry, notifier and feed; pages on SQS and changes on EventBridge where the
    stage names them."""
    from dynamotalk.service.delivery import Delivery

    s, chat = settings(), service()
    pages: PageQueue | None = None
    events_out: EventsOut | None = None
    if s.fanout_pages_queue_url:
        from dynamotalk.adapters.sqs import SqsPageQueue

        pages = SqsPageQueue(_client("sqs", None), s.fanout_pages_queue_url)
    if s.event_bus_name:
        from dynamotalk.adapters.eventbridge import EventBridgeEventsOut
        from dynamotalk.wire import event_json

        events_out = EventBridgeEventsOut(_client("events", None), s.event_bus_name, event_json)
    from dynamotalk.adapters.apigateway import ApiGatewayNotifier, management_poster
    from dynamotalk.domain.limits import FANOUT_POOL
    from dynamotalk.settings import management_transport
    from dynamotalk.wire import encode_event

    # Its own pool of FANOUT_POOL posts at once, through the container's one management client
    # (its endpoint and hooks; the lean transport signs with the session's credentials).
    poster = management_poster(_management(), _session().get_credentials(), management_transport())
    notifier = ApiGatewayNotifier(poster, encode_event, pool_size=FANOUT_POOL)
    worker = Delivery(chat.connections, notifier, chat.feed, chat.clock, pages, events_out)
    worker.block_list = chat.block_list  # who blocked an author gets stubs (domain/blocking.py)
    for adapt in _LOCAL_DELIVERY:
        worker = adapt(worker)
    return worker


@functools.cache
def bot_worker() -> BotWorker:
    """The cloud bot: Bedrock's Converse API, model and limits from the stage's settings."""
    from botocore.config import Config

    from dynamotalk.adapters.bedrock import BedrockAssistant
    from dynamotalk.bot import BotWorker
    from dynamotalk.domain.bot import BOT, MODEL_TIMEOUT_S

    s = settings()
    if not s.bot_model_id:
        raise SettingsError(f"{ENV['bot_model_id']} is required by the bot worker")
    config = Config(
        read_timeout=MODEL_TIMEOUT_S, connect_timeout=3, retries={"total_max_attempts": 2}
    )
    bedrock = _session().client("bedrock-runtime", endpoint_url=s.bedrock_endpoint, config=config)
    assistant = BedrockAssistant(
        bedrock,
        s.bot_model_id,
        bot_user_id=BOT.user_id,
        max_tokens=s.bot_max_tokens,
        temperature=s.bot_temperature,
    )
    # Waits MODEL_TIMEOUT_S for each answer; after the stage's threshold of failures in a row
    # the breaker answers with an apology at once until the cooldown ends.
    return BotWorker(service(), assistant, breaker=_bot_breaker())


def _local_bot() -> ThreadBotJobs:
    """The local stack's bot: the echo assistant in a thread, built on the first job."""
    from dynamotalk.bot import local_bot_jobs

    return local_bot_jobs(service, _bot_breaker())


@functools.cache
def identity() -> CognitoIdentity:
    from dynamotalk.adapters.cognito import CognitoIdentity

    s = settings()
    if not s.user_pool_id or not s.user_pool_client_id:
        raise SettingsError(
            f"{ENV['user_pool_id']} and {ENV['user_pool_client_id']} are required to verify tokens"
        )
    # Locally, moto serves the pool's JWKS under its own endpoint; on AWS it is under the issuer.
    jwks_url = (
        f"{s.cognito_endpoint.rstrip('/')}/{s.user_pool_id}/.well-known/jwks.json"
        if s.cognito_endpoint
        else None
    )
    return CognitoIdentity(issuer=s.issuer, client_id=s.user_pool_client_id, jwks_url=jwks_url)


@functools.cache
def sessions() -> SessionKeeper:
    """Session lifetime = token lifetime (service/sessions.py): the store, DeleteConnection, and the
    same identity adapter as the authorizer (for `reauth`)."""
    from dynamotalk.adapters.sessions import (
        ApiGatewayCloser,
        DynamoSessionStore,
        MemorySessionStore,
    )
    from dynamotalk.ports import SessionStore
    from dynamotalk.service.sessions import SessionKeeper

    s = settings()
    chat = service()
    store: SessionStore
    if _in_memory():
        from dynamotalk.adapters.memory import MemoryConnectionRegistry

        store = MemorySessionStore(cast("MemoryConnectionRegistry", chat.connections))
    else:
        store = DynamoSessionStore(_client("dynamodb", s.dynamodb_endpoint), s.table_name)
    closer = ApiGatewayCloser(_management())
    verifier = _IdentityOnFirstUse() if s.user_pool_id and s.user_pool_client_id else None
    from dynamotalk.wire import encode_error

    return SessionKeeper(chat, store, closer, encode_error, verifier)


class _IdentityOnFirstUse:
    """The identity adapter, built on the first `reauth`: JWT verification (pyjwt,
    cryptography) stays out of the cold start of $connect and the message route."""

    def verify_session(self, token: str) -> tuple[Principal, int]:
        return identity().verify_session(token)
