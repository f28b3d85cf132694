"""Web Push on loopback: the push queue (SQS and its event source mapping), the VAPID key in
SSM, and a push service that takes the encrypted POSTs.

- `provision` (before the handlers load): the VAPID key, made once per data directory
  (`<data dir>/push/vapid.pem`, never committed; in memory with --in-memory), is put in moto's
  SSM as the SecureString parameter the Pulumi program creates, so push_sender reads it with
  its own code (push_root.vapid_pem) under its IAM policy; and the push-service emulator
  starts on a free loopback port, the one origin outside the allowlist a subscription may name.
- `start` (on the gateway's loop): the push queue, in process like the page queue
  (delivery.py): each job invokes push_sender, retried after a failure, dead after MAX_RECEIVES.
- The emulator answers a push as a push service does (RFC 8030 section 5): 201 after checking
  the VAPID Authorization (RFC 8292: ES256 JWT whose `aud` is its origin, `exp` within 24 h,
  `sub` mailto:/https:, signed by `k`), `Content-Encoding: aes128gcm` and a TTL header; 410
  (or 404) for an endpoint a test marked gone; 401/400 otherwise. What it got is kept for
  tests: GET /_local/push on the API (the body stays encrypted: the test decrypts it).
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import jwt
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dynamotalk.adapters.sqs_push import push_body
from dynamotalk.adapters.webpush import Vapid
from dynamotalk.domain.push import b64url_decode
from dynamotalk.local.sqs_queue import LocalSqsQueue
from dynamotalk.routes import vapid_parameter_name
from dynamotalk.workers import PUSH_MAX_RECEIVES, PUSH_SENDER

if TYPE_CHECKING:  # the gateway imports this module: its own modules come lazily
    from dynamotalk.local.gateway.invoke import Functions

_log = structlog.get_logger("dynamotalk.push")
SUBJECT = "mailto:push@dynamotalk.localhost"
"""The local stage's vapidSubject."""
MAX_JWT_LIFETIME_S = 24 * 3600
"""RFC 8292 section 2: a VAPID JWT's `exp` at most 24 hours ahead."""


def vapid_key(data_dir: Path | None) -> str:
    """The stage's VAPID private key (PEM): made on first start, then read back."""
    path = data_dir / "push" / "vapid.pem" if data_dir is not None else None
    if path is not None and path.exists():
        return path.read_text()
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pem)
        path.chmod(0o600)
    return pem


@attrs.define
class PushService:
    """The push-service emulator: what it received, and endpoints marked gone."""

    origin: str = ""
    received: list[dict[str, Any]] = attrs.Factory(list)
    gone: dict[str, int] = attrs.Factory(dict)
    """Endpoint path -> the status it answers (404 or 410)."""
    lock: threading.Lock = attrs.Factory(threading.Lock)

    def answer(self, path: str, headers: Any, body: bytes) -> int:
        problem = self._problem(headers)
        entry: dict[str, Any] = {
            "endpoint": f"{self.origin}{path}",
            "headers": {k.lower(): v for k, v in headers.items()},
            "body": base64.b64encode(body).decode(),
            "problem": problem,
        }
        with self.lock:
            status = self.gone.get(path, 201)
            entry["status"] = 401 if problem == "vapid" else 400 if problem else status
            self.received.append(entry)
        return int(entry["status"])

    def _problem(self, headers: Any) -> str | None:
        if headers.get("Content-Encoding") != "aes128gcm":
            return "content-encoding"
        if not str(headers.get("TTL", "")).isdigit():
            return "ttl"
        try:
            scheme, _, params = str(headers.get("Authorization", "")).partition(" ")
            fields = dict(p.strip().split("=", 1) for p in params.split(","))
            point = b64url_decode(fields["k"])
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
            claims = jwt.decode(
                fields["t"], key, algorithms=["ES256"], audience=self.origin, leeway=5
            )
            assert scheme.lower() == "vapid"
            assert claims["exp"] <= time.time() + MAX_JWT_LIFETIME_S
            assert str(claims["sub"]).startswith(("mailto:", "https:"))
        except (ValueError, KeyError, AssertionError, jwt.PyJWTError):
            return "vapid"
        return None


SERVICE = PushService()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = SERVICE.answer(self.path, self.headers, body)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        if status == 201:
            self.send_header("Location", f"{SERVICE.origin}/messages/{uuid.uuid4()}")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def provision(aws_endpoint: str, data_dir: Path | None, stage: str) -> dict[str, str]:
    """The VAPID key into moto's SSM and the emulator up; the environment the handlers read."""
    import boto3

    from dynamotalk.local.provision import REGION
    from dynamotalk.settings import ENV

    pem = vapid_key(data_dir)
    name = vapid_parameter_name(stage)
    ssm = boto3.client("ssm", endpoint_url=aws_endpoint, region_name=REGION)
    ssm.put_parameter(Name=name, Value=pem, Type="SecureString", Overwrite=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    SERVICE.origin = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, name="push-service", daemon=True).start()
    return {
        ENV["vapid_parameter"]: name,
        ENV["vapid_subject"]: SUBJECT,
        ENV["ssm_endpoint"]: aws_endpoint,
        ENV["push_local_origin"]: SERVICE.origin,
        ENV["push_public_key"]: Vapid.from_pem(pem).public_key,
    }


class LocalPushQueue(LocalSqsQueue):
    """The push queue: each job invokes push_sender, as its event source mapping; `done` holds
    the jobs push_sender finished: a test waits for one, then reads what the push service got."""

    def enqueue_many(self, jobs: Sequence[tuple[str, str, int]]) -> None:
        for job in jobs:
            self.send(push_body(*job))


QUEUE: list[LocalPushQueue] = []


def start(functions: Functions) -> LocalPushQueue:
    """Install the local push queue where the fan-out looks for it (on the running loop)."""
    from dynamotalk import push_root

    queue = LocalPushQueue(functions, asyncio.get_running_loop(), PUSH_SENDER, PUSH_MAX_RECEIVES)
    QUEUE[:] = [queue]
    push_root.use_local_push_jobs(queue)
    return queue


async def local_push(request: Request) -> Response:
    """Test hook: GET what the emulator received (and its origin, to subscribe to); POST
    {"endpoint", "status"} to make an endpoint answer 404 or 410 from now on."""
    if request.method == "POST":
        try:
            body = await request.json()
            path = str(body["endpoint"]).removeprefix(SERVICE.origin)
            status = int(body.get("status", 410))
            assert status in (404, 410)
        except (ValueError, KeyError, TypeError, AssertionError):
            message = 'expected {"endpoint": str, "status": 404 | 410}'
            return JSONResponse({"message": message}, status_code=400)
        with SERVICE.lock:
            SERVICE.gone[path] = status
        return Response(status_code=204)
    with SERVICE.lock:
        received = list(SERVICE.received)
    done = list(QUEUE[0].done) if QUEUE else []
    dead = list(QUEUE[0].dead) if QUEUE else []
    return JSONResponse(
        {"origin": SERVICE.origin, "received": received, "doneJobs": done, "deadJobs": dead}
    )
