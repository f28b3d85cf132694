"""A loopback management API that verifies SigV4 as API Gateway does, for the lean path's
tests (tests/integration/test_management_http.py): its own implementation of AWS's published
algorithm (not botocore's code), 403 InvalidSignatureException for a bad signature, optionally
over TLS with a self-signed certificate."""

from __future__ import annotations

import hashlib
import hmac
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import attrs

REGION = "eu-west-1"
KEYS = {"AKIDLEAN": "secret-lean", "AKIDNEXT": "secret-next"}
"""Access key -> secret the server knows."""


def expected_signature(
    method: str, path: str, headers: dict[str, str], body: bytes, secret: str
) -> str:
    """SigV4 as AWS documents it, from the request as received."""
    fields = dict(
        part.strip().split("=", 1) for part in headers["authorization"].split(" ", 1)[1].split(",")
    )
    signed = fields["SignedHeaders"].split(";")
    scope = fields["Credential"].split("/", 1)[1]
    canonical = "\n".join(
        [
            method,
            quote(path, safe="/~"),  # the path as sent, encoded once more (non-S3 services)
            "",
            "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed),
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            headers["x-amz-date"],
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@attrs.define
class VerifyingApi:
    """POST /stage/@connections/{id}: 200 when the signature verifies, else 403."""

    server: ThreadingHTTPServer
    received: dict[str, list[bytes]] = attrs.Factory(dict)
    refused: list[str] = attrs.Factory(list)
    access_keys: list[str] = attrs.Factory(list)
    tokens: list[str | None] = attrs.Factory(list)
    connections: int = 0
    scheme: str = "http"
    drop_after_response: bool = False
    dropped: threading.Event = attrs.Factory(threading.Event)
    lock: threading.Lock = attrs.Factory(threading.Lock)

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}/stage"

    def verify(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        fields = headers.get("authorization", "")
        if not fields.startswith("AWS4-HMAC-SHA256 Credential="):
            return False
        access_key, date, region, service, _ = fields.split("=", 2)[1].split(",")[0].split("/")
        signed = fields.split("SignedHeaders=", 1)[1].split(",")[0].split(";")
        signature = fields.rsplit("Signature=", 1)[1]
        secret = KEYS.get(access_key)
        return (
            secret is not None
            and (region, service) == (REGION, "execute-api")
            and date == headers.get("x-amz-date", "")[:8]
            and {"host", "x-amz-date"} <= set(signed)
            and ("x-amz-security-token" not in headers or "x-amz-security-token" in signed)
            and hmac.compare_digest(
                signature, expected_signature(method, path, headers, body, secret)
            )
        )

    @classmethod
    def start(cls, tls: ssl.SSLContext | None = None) -> VerifyingApi:
        holder: dict[str, VerifyingApi] = {}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with holder["api"].lock:
                    holder["api"].connections += 1

            def do_POST(self) -> None:
                api = holder["api"]
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                connection_id = unquote(self.path.rsplit("/@connections/", 1)[-1])
                ok = self.path.startswith("/stage/@connections/") and api.verify(
                    "POST", self.path, headers, body
                )
                with api.lock:
                    if ok:
                        api.received.setdefault(connection_id, []).append(body)
                        api.access_keys.append(headers["authorization"].split("=")[1][:8])
                        api.tokens.append(headers.get("x-amz-security-token"))
                    else:
                        api.refused.append(connection_id)
                payload = b"{}" if ok else b'{"message": "signature mismatch"}'
                self.send_response(200 if ok else 403)
                if not ok:
                    self.send_header("x-amzn-ErrorType", "InvalidSignatureException")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
                if api.drop_after_response:  # an idle timeout, without a word to the client
                    self.close_connection = True
                    self.request.shutdown(2)
                    api.dropped.set()

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        api = cls(server=server, scheme="https" if tls else "http")
        holder["api"] = api
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return api

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (the test's own CA, trusted via AWS_CA_BUNDLE)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
