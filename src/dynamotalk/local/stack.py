"""`dynamotalk dev`: the whole chat on loopback with no AWS account.

Starts DynamoDB Local (official engine, on Java; moto's DynamoDB if Java or the jar is missing)
and moto's server (Cognito, S3), provisions the stage like the Pulumi program does, sets the
environment the handlers read, creates the demo room, then serves two origins from one event
loop, as the cloud does: the API (HTTP API, WebSocket, Cognito front door) on --port and the
web client on --web-port, the way CloudFront serves it from its own domain.

Supervision (supervision.py): the data directory is locked while a stack uses it; a watchdog
restarts DynamoDB Local if it dies and stops the stack (exit code 3) after --max-restarts; SIGINT,
SIGTERM and SIGHUP all stop the servers, DynamoDB Local and moto in order and exit 0. DynamoDB
Local also dies with this process if it is killed outright (see emulators.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from dynamotalk.local.aws import LocalAws
from dynamotalk.local.emulators import DynamoDBLocal, EmulatorError, free_port, port_in_use
from dynamotalk.local.gateway.guards import LOOPBACK_HOSTS
from dynamotalk.local.supervision import (
    STOP_SIGNALS,
    Control,
    DataDirInUse,
    StopWhileStarting,
    Watchdog,
    locked,
    wipe,
)
from dynamotalk.settings import ENV, STORAGE_ENV
from dynamotalk.workers import SESSION_SWEEPER

STAGE = "local"
DEMO_ROOM = "lobby"
WELCOME = (
    "Welcome to DynamoTalk! Say hi 👋 To talk to the bot, open a direct message with the user"
    " bot, or write its name right after an at sign in a room it belongs to."
)
"""The lobby's first message. It must not mention the bot itself, or the bot answers it."""
ROOT = Path(__file__).resolve().parents[3]
EXIT_USAGE = 2
EXIT_DEPENDENCY = 3


@attrs.define
class Options:
    port: int = 8787
    host: str = "127.0.0.1"
    data_dir: Path = Path(".dynamotalk")
    in_memory: bool = False
    quiet: bool = False
    web_port: int | None = None
    """The web client's origin; port + 1 when not given."""
    fresh: bool = False
    max_restarts: int = 3
    management_on_api_port: bool = False
    """The @connections API on the API port's loop only (the single-loop gateway, slower)."""
    print_metrics: bool = False
    """Also print each EMF metrics line (they are kept as totals at GET /_local/metrics)."""

    @property
    def web(self) -> int:
        return self.web_port if self.web_port is not None else self.port + 1


def say(options: Options, line: str) -> None:
    if not options.quiet:
        with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP)
            print(line, flush=True)


def shout(line: str) -> None:
    """Something went wrong: always printed, --quiet or not."""
    with contextlib.suppress(OSError):
        print(f"dynamotalk dev: {line}", file=sys.stderr, flush=True)


def ensure_demo_room() -> str:
    """A public room to land in on first start (kept across restarts with --data-dir); its id,
    which config.json publishes as `lobby` (the web client's first run opens it)."""
    from dynamotalk import bootstrap
    from dynamotalk.domain.identities import BOT, SYSTEM, bot_user
    from dynamotalk.domain.models import RoomKind

    service = bootstrap.service()
    service.users.put(bot_user())  # the profile the Pulumi program seeds (infra/bot.py)
    system = SYSTEM
    for room in service.rooms.public_rooms(100):
        if room.name == DEMO_ROOM and room.created_by == system.user_id:
            return room.room_id
    room = service.create_room(system, DEMO_ROOM, RoomKind.PUBLIC, [BOT.user_id])
    service.post_message(system, room.room_id, WELCOME, "welcome")
    return room.room_id


def run(options: Options) -> int:
    if options.host not in LOOPBACK_HOSTS:
        print("dynamotalk dev: the local stack listens on loopback only", file=sys.stderr)
        return EXIT_USAGE
    for flag, port in (("--port", options.port), ("--web-port", options.web)):
        if port_in_use(port, options.host):
            print(
                f"dynamotalk dev: port {port} is already in use; "
                f"stop what uses it or pick another with {flag}",
                file=sys.stderr,
            )
            return EXIT_USAGE
    if options.port == options.web:
        print("dynamotalk dev: --web-port must differ from --port", file=sys.stderr)
        return EXIT_USAGE
    control = Control()
    handlers = {sig: signal.signal(sig, control.on_signal) for sig in STOP_SIGNALS}
    try:
        data_dir = options.data_dir.resolve()
        guard = contextlib.nullcontext() if options.in_memory else locked(data_dir)
        with guard:
            if options.fresh and not options.in_memory:
                removed = wipe(data_dir)
                say(options, f"--fresh: removed {', '.join(removed) or 'nothing'} in {data_dir}")
            return _run_locked(options, data_dir, control)
    except DataDirInUse as error:
        shout(str(error))
        return EXIT_USAGE
    except StopWhileStarting:
        return control.exit_code
    finally:
        for sig, previous in handlers.items():
            signal.signal(sig, previous)


def _run_locked(options: Options, data_dir: Path, control: Control) -> int:
    aws: LocalAws | None = None
    dynamodb: DynamoDBLocal | None = None
    watchdog: Watchdog | None = None
    try:
        aws = LocalAws.start(data_dir=None if options.in_memory else data_dir / "aws")
        if options.in_memory:
            os.environ[STORAGE_ENV] = "memory"
            engine, ddb_endpoint = "in-memory adapters", aws.endpoint
        else:
            try:
                dynamodb = DynamoDBLocal.start(data_dir=data_dir / "dynamodb")
            except EmulatorError as error:
                say(options, f"notice: {error}; using moto's DynamoDB instead")
                engine, ddb_endpoint = "moto DynamoDB", aws.endpoint
            else:
                engine, ddb_endpoint = "DynamoDB Local", dynamodb.endpoint
                for pid in dynamodb.stopped_orphans:
                    shout(f"stopped DynamoDB Local (pid {pid}) left running on {data_dir}")

                def give_up(message: str) -> None:
                    shout(message)
                    control.stop(EXIT_DEPENDENCY)

                watchdog = Watchdog(dynamodb, shout, give_up, options.max_restarts)
                watchdog.start()
        _serve(options, control, aws, ddb_endpoint, engine, data_dir)
        return control.exit_code
    finally:
        control.cleaning_up = True
        if watchdog is not None:
            watchdog.stop()
        if dynamodb is not None:
            dynamodb.stop()
        if aws is not None:
            aws.stop()
        say(options, "DynamoTalk local stack stopped.")


def _serve(
    options: Options,
    control: Control,
    aws: LocalAws,
    ddb_endpoint: str,
    engine: str,
    data_dir: Path,
) -> None:
    import uvicorn

    from dynamotalk.local import iam
    from dynamotalk.local.gateway import Gateway, uvicorn_options
    from dynamotalk.local.provision import REGION, provision
    from dynamotalk.origins import allowed_origins

    base = f"http://{options.host}:{options.port}"
    web_base = f"http://{options.host}:{options.web}"
    # The management API's own server (gateway/management_server.py), where the notifier posts.
    management_port = None if options.management_on_api_port else free_port()
    management = f"http://{options.host}:{management_port}" if management_port else base
    # The same rule as the cloud's: the origin the web client is served from, nothing else.
    origins = allowed_origins([web_base], ())
    resources = provision(STAGE, ddb_endpoint, aws.endpoint, origins)
    os.environ.update(resources.environment(management_endpoint=management, auto_confirm=True))
    os.environ.setdefault(ENV["bot"], "local")
    from dynamotalk.local import push  # Web Push: VAPID key in SSM, push-service emulator

    os.environ.update(push.provision(aws.endpoint, None if options.in_memory else data_dir, STAGE))
    # Every handler runs with the policy the Pulumi program would give its role; this must
    # come before the handlers build their clients.
    iam.enforce_iam(
        iam.stage_policies(
            resources.stage,
            REGION,
            resources.table_name,
            resources.bucket_name,
            # The local bot answers with the echo assistant; the model id only names the
            # Bedrock resource of the bot worker's policy, which the local bot never calls.
            bot_model_id="local.echo-assistant",
            user_pool_id=resources.user_pool_id,
        )
    )
    from dynamotalk import bootstrap, metrics
    from dynamotalk.local.metrics import LocalMetrics

    # Business metrics stay in memory (GET /_local/metrics), before anything records one.
    local_metrics = LocalMetrics(echo=options.print_metrics)
    metrics.send_to(local_metrics.record)
    lobby = ensure_demo_room()
    identity = bootstrap.identity()
    gateway = Gateway(
        stage=STAGE,
        host=options.host,
        port=options.port,
        verify_claims=identity.claims,
        cognito_endpoint=aws.endpoint,
        user_pool_id=resources.user_pool_id,
        user_pool_client_id=resources.user_pool_client_id,
        web_dir=ROOT / "web",
        allowed_origins=origins,
        s3_endpoint=resources.aws_endpoint,
        max_message_chars=bootstrap.settings().max_message_chars,
        management_port=management_port,
        lobby=lobby,
        metrics=local_metrics,
    )
    web_app = gateway.web_app()
    kept = "nothing is kept" if options.in_memory else f"data in {data_dir}"
    say(
        options,
        f"DynamoTalk local stack (storage: {engine}; Cognito and S3: moto; {kept})",
    )
    say(options, f"  web client  {web_base}/")
    say(options, f"  HTTP API    {base}/api")
    say(options, f"  WebSocket   ws://{options.host}:{options.port}/ws")
    say(options, f"  Cognito     {base}/cognito")
    say(options, f"  management  {management}/@connections")
    say(options, f"  user pool   {resources.user_pool_id}")
    say(options, f"  app client  {resources.user_pool_client_id}")
    say(options, f"  S3          {resources.aws_endpoint} (bucket {resources.bucket_name})")
    say(options, f"  DynamoDB    {ddb_endpoint} (table {resources.table_name})")
    say(options, f"  chat        .venv/bin/dynamotalk chat --url {base}")
    say(options, "Ctrl-C stops everything.")

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # run() owns STOP_SIGNALS, for both servers and the emulators

    # The WebSocket limits the gateway's contract relies on (frame and message sizes, no
    # compression, no server pings) are uvicorn settings: gateway/limits.py says which.
    server_options = uvicorn_options()

    def server(app: Any, port: int) -> Server:
        config = uvicorn.Config(
            app, host=options.host, port=port, log_level="warning", **server_options
        )
        return Server(config)

    servers = [server(gateway.app(), options.port), server(web_app, options.web)]
    with control.lock:
        if control.stopping:
            return
        control.servers.extend(servers)

    async def serve_all() -> None:
        from dynamotalk.local import schedules

        # EventBridge's part: the session sweeper's schedule, the sign-out rule
        # (service/sessions.py).
        sweep_s = bootstrap.settings().session_sweep_s
        stop_schedules = schedules.start(gateway.functions, {SESSION_SWEEPER: sweep_s})
        try:
            await asyncio.gather(*(s.serve() for s in servers))
        finally:
            stop_schedules()

    asyncio.run(serve_all())
