"""S3 presigned POST on LocalAws, refused exactly where S3 refuses it, with S3's error codes.

Every test posts a real multipart form over HTTP (httpx), built from the form our adapter
presigns (S3AttachmentStore.upload_form), and reads S3's XML error body.
"""

from __future__ import annotations

import base64
import itertools
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dynamotalk.adapters.s3 import S3AttachmentStore
from dynamotalk.local.aws import LocalAws
from dynamotalk.local.provision import client, ensure_bucket

_buckets = itertools.count()
KEY = "rooms/r1/u1/01JD2V6A0000000000000000AA/cat.png"


@pytest.fixture(scope="module")
def local_aws() -> Iterator[str]:
    aws = LocalAws.start()
    yield aws.endpoint
    aws.stop()


@pytest.fixture
def store(local_aws: str) -> S3AttachmentStore:
    s3 = client("s3", local_aws)
    name = f"uploads-{next(_buckets)}"
    ensure_bucket(s3, name, ["http://web.local"])
    return S3AttachmentStore(s3, name)


def post(
    url: str, fields: dict[str, str], content: bytes, content_type: str = "image/png"
) -> httpx.Response:
    files = {"file": ("upload", content, content_type)}
    return httpx.post(url, data=fields, files=files, timeout=10)


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    root = ET.fromstring(response.content)  # noqa: S314 - our own loopback server
    return response.status_code, root.findtext("Code") or "", root.findtext("Message") or ""


def form(store: S3AttachmentStore, max_bytes: int = 100, expires_in: int = 60) -> Any:
    return store.upload_form(KEY, "image/png", max_bytes, expires_in)


def test_a_valid_form_uploads_and_keeps_its_content_type(store: S3AttachmentStore) -> None:
    upload = form(store)
    response = post(upload.url, dict(upload.fields), b"\x89PNG small")
    assert response.status_code == 204, response.text
    assert store.size_of(KEY) == len(b"\x89PNG small")
    head = store.client.head_object(Bucket=store.bucket, Key=KEY)
    assert head["ContentType"] == "image/png"


def test_a_file_over_the_range_is_entity_too_large(store: S3AttachmentStore) -> None:
    upload = form(store, max_bytes=10)
    response = post(upload.url, dict(upload.fields), b"x" * 11)
    assert error_of(response) == (
        400,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
    )
    assert ET.fromstring(response.content).findtext("MaxSizeAllowed") == "10"  # noqa: S314
    assert store.size_of(KEY) is None


def test_an_empty_file_is_entity_too_small(store: S3AttachmentStore) -> None:
    upload = form(store)
    response = post(upload.url, dict(upload.fields), b"")
    assert error_of(response)[:2] == (400, "EntityTooSmall")
    assert store.size_of(KEY) is None


def test_another_content_type_fails_the_policy_condition(store: S3AttachmentStore) -> None:
    upload = form(store)
    fields = {**upload.fields, "Content-Type": "text/html"}
    response = post(upload.url, fields, b"<script>", "text/html")
    assert error_of(response) == (
        403,
        "AccessDenied",
        'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", '
        '"image/png"]',
    )
    assert store.size_of(KEY) is None


def test_another_key_fails_the_policy_condition(store: S3AttachmentStore) -> None:
    upload = form(store)
    fields = {**upload.fields, "key": "avatars/someone-else/me.png"}
    response = post(upload.url, fields, b"png")
    status, code, message = error_of(response)
    assert (status, code) == (403, "AccessDenied")
    assert (
        message == f'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "{KEY}"]'
    )
    assert store.size_of("avatars/someone-else/me.png") is None


def test_another_bucket_fails_the_bucket_condition(
    store: S3AttachmentStore, local_aws: str
) -> None:
    other = f"uploads-{next(_buckets)}"
    ensure_bucket(store.client, other, [])
    upload = form(store)
    response = post(f"{local_aws}/{other}", dict(upload.fields), b"png")
    status, code, message = error_of(response)
    assert (status, code) == (403, "AccessDenied")
    assert '["eq", "$bucket", ' in message


def test_an_expired_policy_is_refused(store: S3AttachmentStore) -> None:
    upload = form(store, expires_in=-5)  # signed correctly, already past its expiration
    response = post(upload.url, dict(upload.fields), b"png")
    assert error_of(response) == (
        403,
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )


def test_a_tampered_policy_does_not_match_its_signature(store: S3AttachmentStore) -> None:
    upload = form(store, max_bytes=10)
    policy = json.loads(base64.b64decode(upload.fields["policy"]))
    policy["conditions"] = [
        ["content-length-range", 1, 10_000_000] if isinstance(c, list) else c
        for c in policy["conditions"]
    ]
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    response = post(upload.url, {**upload.fields, "policy": forged}, b"x" * 1000)
    assert error_of(response)[:2] == (403, "SignatureDoesNotMatch")
    assert store.size_of(KEY) is None


def test_a_field_the_policy_does_not_cover_is_refused(store: S3AttachmentStore) -> None:
    upload = form(store)
    response = post(upload.url, {**upload.fields, "acl": "public-read"}, b"png")
    assert error_of(response) == (
        403,
        "AccessDenied",
        "Invalid according to Policy: Extra input fields: acl",
    )
    ignored = post(upload.url, {**upload.fields, "x-ignore-note": "anything"}, b"png")
    assert ignored.status_code == 204, ignored.text


def test_an_unknown_access_key_is_refused(store: S3AttachmentStore) -> None:
    upload = form(store)
    credential = upload.fields["x-amz-credential"].replace("local/", "AKIAUNKNOWN/", 1)
    response = post(upload.url, {**upload.fields, "x-amz-credential": credential}, b"png")
    assert error_of(response)[:2] == (403, "InvalidAccessKeyId")


def test_signature_version_2_forms_are_refused_as_on_new_buckets(
    store: S3AttachmentStore, local_aws: str
) -> None:
    import boto3

    legacy = boto3.client(  # botocore's default for presigned POSTs is still SigV2
        "s3",
        endpoint_url=local_aws,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    upload = legacy.generate_presigned_post(Bucket=store.bucket, Key=KEY, ExpiresIn=60)
    assert "signature" in upload["fields"]
    response = post(upload["url"], upload["fields"], b"png")
    assert error_of(response)[:2] == (400, "InvalidRequest")


def test_missing_fields_and_files_are_refused(store: S3AttachmentStore) -> None:
    upload = form(store)
    no_policy = {k: v for k, v in upload.fields.items() if k != "policy"}
    assert error_of(post(upload.url, no_policy, b"png"))[:2] == (400, "InvalidArgument")
    no_file = httpx.post(upload.url, data=dict(upload.fields), files={"x": ("a", b"")})
    assert error_of(no_file)[:2] == (400, "InvalidArgument")


def test_refusals_carry_cors_headers_for_allowed_origins(store: S3AttachmentStore) -> None:
    upload = form(store, max_bytes=1)
    files = {"file": ("upload", b"too big", "image/png")}
    allowed = httpx.post(
        upload.url, data=dict(upload.fields), files=files, headers={"Origin": "http://web.local"}
    )
    assert allowed.status_code == 400
    assert allowed.headers["access-control-allow-origin"] == "http://web.local"
    other = httpx.post(
        upload.url, data=dict(upload.fields), files=files, headers={"Origin": "http://evil"}
    )
    assert "access-control-allow-origin" not in other.headers
