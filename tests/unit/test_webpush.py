"""adapters/webpush.py against the standards: RFC 8291's own example (Appendix A) byte for
byte, the reference implementations pywebpush is made of (http_ece decrypts what we encrypt,
py_vapid verifies our VAPID header), and the tests' own RFC 8291 decryption."""

from __future__ import annotations

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from dynamotalk.adapters.webpush import Vapid, encrypt
from dynamotalk.local.push import vapid_key
from tests.support.webpush_rfc8291 import b64url, decrypt, new_subscription, raw_public, unb64url

PLAINTEXT = b"When I grow up, I want to be a watermelon"
UA_PUBLIC = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
SALT = "DGv6ra1nlYgDCS1FRnbzlw"
BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS"
    "6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_"
    "Qulcy4a-fN"
)
"""RFC 8291 section 5 and Appendix A: the example's keys, salt and the message it yields."""


def private(d: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(unb64url(d), "big"), ec.SECP256R1())


def test_encryption_is_rfc_8291_appendix_a_byte_for_byte() -> None:
    body = encrypt(
        unb64url(UA_PUBLIC), unb64url(AUTH), PLAINTEXT, unb64url(SALT), private(AS_PRIVATE)
    )
    assert b64url(body) == BODY
    assert decrypt(body, private(UA_PRIVATE), unb64url(AUTH)) == PLAINTEXT


def test_http_ece_decrypts_what_we_encrypt() -> None:
    _, key, auth = new_subscription("https://fcm.googleapis.com/x")
    ours = encrypt(raw_public(key), auth, b"hello")
    assert (
        http_ece.decrypt(ours, private_key=key, auth_secret=auth, version="aes128gcm") == b"hello"
    )


def test_py_vapid_verifies_our_vapid_header() -> None:
    pem = vapid_key(None)
    vapid = Vapid.from_pem(pem)
    header = vapid.authorization(
        "https://fcm.googleapis.com/fcm/send/x", "mailto:a@b.example", 10**9
    )
    assert header.startswith("vapid t=")
    assert f"k={vapid.public_key}" in header
    assert Vapid02.verify(header)
