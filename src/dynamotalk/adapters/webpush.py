"""The WebPush port (service/push_sender.py): RFC 8291 message encryption (aes128gcm, RFC
8188), RFC 8292 VAPID signing, and the RFC 8030 POST to the subscription's push service.

Written on `cryptography` (ECDH P-256, HKDF-SHA-256, AES-128-GCM) and `pyjwt` (the ES256 JWT),
both already in the JWT layer, which push_sender adds: pywebpush's own parts (http_ece,
py_vapid) publish no wheel (http_ece) or duplicate pyjwt (py_vapid), and the Lambda build
installs hash-locked wheels only. tests/unit/test_webpush.py checks this module against both
reference implementations. The POST goes out on http.client, which never follows a redirect,
to the endpoint the subscription named (an allowlisted push service, domain/push).
"""

from __future__ import annotations

import http.client
import os
import struct
import time
import urllib.parse

import attrs
import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dynamotalk.domain import push
from dynamotalk.domain.push import PushSubscription

TIMEOUT_S = 10.0
"""Connect and read timeout of one push request; push services answer in well under a second."""
PADDING_DELIMITER = b"\x02"
"""RFC 8188 section 2: the last (here the only) record ends with 0x02, then no padding."""


def _hkdf(secret: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    return HKDF(hashes.SHA256(), length, salt, info).derive(secret)


def _raw(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def encrypt(
    p256dh: bytes,
    auth: bytes,
    plaintext: bytes,
    salt: bytes | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
) -> bytes:
    """RFC 8291 section 3-4: a fresh application-server key pair and salt per message; the
    body is the aes128gcm header (salt, record size, our public key) and one record."""
    server = key or ec.generate_private_key(ec.SECP256R1())
    server_public = _raw(server.public_key())
    browser = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
    shared = server.exchange(ec.ECDH(), browser)
    ikm = _hkdf(shared, auth, b"WebPush: info\x00" + p256dh + server_public, 32)
    salt = salt or os.urandom(16)
    cek = _hkdf(ikm, salt, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(ikm, salt, b"Content-Encoding: nonce\x00", 12)
    record = AESGCM(cek).encrypt(nonce, plaintext + PADDING_DELIMITER, None)
    header = salt + struct.pack("!IB", push.RECORD_SIZE, len(server_public)) + server_public
    return header + record


@attrs.frozen
class Vapid:
    """The application server's key (RFC 8292): signs the JWT each push request carries."""

    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def from_pem(cls, pem: str) -> Vapid:
        """The SSM parameter's PEM (SEC1 `EC PRIVATE KEY` as tls.PrivateKey writes it, or
        PKCS#8)."""
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the VAPID key must be an ECDSA P-256 private key")
        return cls(key)

    @property
    def public_key(self) -> str:
        """What browsers pass as `applicationServerKey`: the raw point, base64url."""
        return push.b64url(_raw(self.private_key.public_key()))

    def authorization(self, endpoint: str, subject: str, now_s: int) -> str:
        """`vapid t=<JWT>, k=<public key>` for the endpoint's push service (RFC 8292 section 3):
        `aud` its origin, `exp` VAPID_EXPIRY_S ahead, `sub` the operator's contact."""
        url = urllib.parse.urlsplit(endpoint)
        claims = {
            "aud": f"{url.scheme}://{url.netloc}",
            "exp": now_s + push.VAPID_EXPIRY_S,
            "sub": subject,
        }
        token = jwt.encode(claims, self.private_key, algorithm="ES256", headers={"typ": "JWT"})
        return f"vapid t={token},k={self.public_key}"


@attrs.define
class VapidWebPush:
    vapid: Vapid
    subject: str
    """`sub` of the JWT: a mailto: or https: contact for the push service's operators."""
    timeout_s: float = TIMEOUT_S

    def send(
        self, subscription: PushSubscription, data: bytes, ttl_s: int, urgency: str, topic: str
    ) -> int:
        if len(data) > push.MAX_PAYLOAD_BYTES:
            raise ValueError(f"a push payload may be at most {push.MAX_PAYLOAD_BYTES} bytes")
        body = encrypt(
            push.b64url_decode(subscription.p256dh), push.b64url_decode(subscription.auth), data
        )
        headers = {
            "Authorization": self.vapid.authorization(
                subscription.endpoint, self.subject, int(time.time())
            ),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(ttl_s),
            "Urgency": urgency,
            "Topic": topic,
        }
        url = urllib.parse.urlsplit(subscription.endpoint)
        connection_type = (
            http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_type(url.netloc, timeout=self.timeout_s)
        try:
            path = url.path + (f"?{url.query}" if url.query else "")
            connection.request("POST", path or "/", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()
