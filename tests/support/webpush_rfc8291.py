"""The browser's side of RFC 8291, written from the RFC for the tests (not from http_ece, nor
from adapters/webpush.py): decrypt a push message body (aes128gcm, RFC 8188 section 2) with the
subscription's private key and auth secret, and make such a subscription."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand with one block (RFC 5869; every length here is at most 32)."""
    return _hmac(prk, info + b"\x01")[:length]


def raw_public(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def new_subscription(endpoint: str) -> tuple[dict[str, object], ec.EllipticCurvePrivateKey, bytes]:
    """A PushSubscription's JSON as a browser makes it, with its private key and auth secret."""
    key, auth = ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
    body = {"endpoint": endpoint, "keys": {"p256dh": b64url(raw_public(key)), "auth": b64url(auth)}}
    return body, key, auth


def decrypt(body: bytes, ua_private: ec.EllipticCurvePrivateKey, auth_secret: bytes) -> bytes:
    """RFC 8291 section 3.4 (key derivation) and 4 (one record); the padding stripped."""
    salt, (record_size, id_length) = body[:16], struct.unpack("!IB", body[16:21])
    as_public = body[21 : 21 + id_length]
    ciphertext = body[21 + id_length :]
    assert len(ciphertext) <= record_size, "one record only"
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
    ecdh_secret = ua_private.exchange(ec.ECDH(), peer)
    key_info = b"WebPush: info\x00" + raw_public(ua_private) + as_public
    ikm = _expand(_hmac(auth_secret, ecdh_secret), key_info, 32)
    prk = _hmac(salt, ikm)
    cek = _expand(prk, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _expand(prk, b"Content-Encoding: nonce\x00", 12)
    padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
    unpadded = padded.rstrip(b"\x00")
    assert unpadded.endswith(b"\x02"), "the last record's delimiter"
    return unpadded[:-1]
