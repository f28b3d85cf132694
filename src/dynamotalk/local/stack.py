"""`dynamotalk dev`: the whole chat on loopback with no AWS account.

Starts DynamoDB Local (official engine, on Java; moto's DynamoDB if Java or the jar is missing)
and moto's server (Cognito, S3), provisions the stage like the Pulumi program does, sets the
environment the handlers read, creates the demo room, then serves the gateway with uvicorn.
Ctrl-C (or SIGTERM) stops uvicorn, DynamoDB Local and moto.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import attrs

from dynamotalk.local.emulators import DynamoDBLocal, EmulatorError, MotoServer, port_in_use

STAGE = "local"
DEMO_ROOM = "lobby"
ROOT = Path(__file__).resolve().parents[3]


@attrs.define
class Options:
    port: int = 8787
    host: str = "127.0.0.1"
    data_dir: Path = Path(".dynamotalk")
    in_memory: bool = False
    quiet: bool = False


def say(options: Options, line: str) -> None:
    if not options.quiet:
        print(line, flush=True)


def ensure_demo_room() -> None:
    """A public room to land in on first start (kept across restarts with --data-dir)."""
    from dynamotalk.domain.bot import BOT
    from dynamotalk.domain.models import Principal, RoomKind
    from lambdas import _wiring

    service = _wiring.service()
    service.ensure_user(BOT)
    system = Principal(user_id="dynamotalk-system", username="dynamotalk")
    if not any(room.name == DEMO_ROOM for room in service.rooms.public_rooms(100)):
        room = service.create_room(system, DEMO_ROOM, RoomKind.PUBLIC, [BOT.user_id])
        welcome = "Welcome to DynamoTalk! Say hi 👋 (mention @bot to talk to the bot)"
        service.post_message(system, room.room_id, welcome, "welcome")


def run(options: Options) -> int:
    if options.host not in ("127.0.0.1", "localhost", "::1"):
        print("dynamotalk dev: the local stack listens on loopback only", file=sys.stderr)
        return 2
    if port_in_use(options.port, options.host):
        print(
            f"dynamotalk dev: port {options.port} is already in use; "
            f"stop what uses it or pick another with --port",
            file=sys.stderr,
        )
        return 2
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # lambdas/ lives at the project root
    moto = MotoServer.start()
    dynamodb: DynamoDBLocal | None = None
    try:
        if options.in_memory:
            os.environ["DYNAMOTALK_STORAGE"] = "memory"
            engine, ddb_endpoint = "in-memory adapters", moto.endpoint
        else:
            try:
                dynamodb = DynamoDBLocal.start(data_dir=options.data_dir.resolve() / "dynamodb")
                engine, ddb_endpoint = "DynamoDB Local", dynamodb.endpoint
            except EmulatorError as error:
                say(options, f"notice: {error}; using moto's DynamoDB instead")
                engine, ddb_endpoint = "moto DynamoDB", moto.endpoint
        return _serve(options, moto, ddb_endpoint, engine)
    finally:
        if dynamodb is not None:
            dynamodb.stop()
        moto.stop()
        say(options, "DynamoTalk local stack stopped.")


def _serve(options: Options, moto: MotoServer, ddb_endpoint: str, engine: str) -> int:
    import uvicorn

    from dynamotalk.local.gateway import Gateway
    from dynamotalk.local.provision import provision

    base = f"http://{options.host}:{options.port}"
    origins = [base, f"http://localhost:{options.port}"]
    resources = provision(STAGE, ddb_endpoint, moto.endpoint, origins)
    os.environ.update(resources.environment(management_endpoint=base, auto_confirm=True))
    os.environ.setdefault("DYNAMOTALK_BOT", "local")
    from lambdas import _wiring

    ensure_demo_room()
    identity = _wiring.identity()
    gateway = Gateway(
        stage=STAGE,
        host=options.host,
        port=options.port,
        verify_claims=identity.claims,
        cognito_endpoint=moto.endpoint,
        user_pool_id=resources.user_pool_id,
        user_pool_client_id=resources.user_pool_client_id,
        web_dir=ROOT / "web",
    )
    say(options, f"DynamoTalk local stack (storage: {engine}; Cognito and S3: moto)")
    say(options, f"  web client  {base}/")
    say(options, f"  HTTP API    {base}/api")
    say(options, f"  WebSocket   ws://{options.host}:{options.port}/ws")
    say(options, f"  Cognito     {base}/cognito")
    say(options, f"  chat        .venv/bin/dynamotalk chat --url {base}")
    say(options, "Ctrl-C stops everything.")
    config = uvicorn.Config(
        gateway.app(),
        host=options.host,
        port=options.port,
        log_level="warning",
        ws="websockets-sansio",
        lifespan="off",
    )
    uvicorn.Server(config).run()  # returns (or re-raises the signal) after a clean shutdown
    return 0
