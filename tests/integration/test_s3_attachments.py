"""S3 attachments on moto's server: a presigned POST really uploads, limits are enforced."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from dynamotalk.adapters.s3 import S3AttachmentStore
from dynamotalk.local.provision import client

_buckets = itertools.count()


@pytest.fixture
def store(moto_server: str) -> S3AttachmentStore:
    s3 = client("s3", moto_server)
    name = f"attachments-{next(_buckets)}"
    s3.create_bucket(Bucket=name)
    return S3AttachmentStore(s3, name)


def post(form: Any, content: bytes, content_type: str) -> httpx.Response:
    files = {"file": ("upload", content, content_type)}
    return httpx.post(form.url, data=dict(form.fields), files=files, timeout=10)


def test_presigned_post_uploads_and_presigned_get_downloads(store: S3AttachmentStore) -> None:
    key = "rooms/r1/u1/01JD2V6A0000000000000000AA/cat.png"
    assert store.size_of(key) is None
    form = store.upload_form(key, "image/png", 1000, 60)
    assert form.fields["key"] == key
    response = post(form, b"\x89PNG fake image", "image/png")
    assert response.status_code in (200, 201, 204), response.text
    assert store.size_of(key) == len(b"\x89PNG fake image")
    download = httpx.get(store.download_url(key, 60), timeout=10)
    assert download.status_code == 200
    assert download.content == b"\x89PNG fake image"


def test_signed_policy_pins_type_size_and_key(store: S3AttachmentStore) -> None:
    # The conditions S3 enforces; tests/integration/test_local_s3.py posts forms that break each
    # of them against LocalAws and gets S3's refusals.
    import base64
    import json

    form = store.upload_form("rooms/r/u/x/a.pdf", "application/pdf", 500, 60)
    policy = json.loads(base64.b64decode(form.fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 500] in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert {"key": "rooms/r/u/x/a.pdf"} in conditions


def test_a_referenced_file_carries_its_messages_retention(store: S3AttachmentStore) -> None:
    """Issue 18: referencing retags (PutObjectTagging) with the retention's tag, which the
    bucket's lifecycle rule of that retention matches (attachment_retention.py)."""
    from dynamotalk.attachment_retention import retention_tag
    from dynamotalk.upload_expiry import REFERENCED_TAG

    for key, days in (("rooms/r/u/kept.txt", 7), ("avatars/u/me.png", 0)):
        store.client.put_object(Bucket=store.bucket, Key=key, Body=b"x")
        store.mark_referenced(key, days)
        tags = store.client.get_object_tagging(Bucket=store.bucket, Key=key)["TagSet"]
        expected = [REFERENCED_TAG, *([retention_tag(days)] if days else [])]
        assert sorted((t["Key"], t["Value"]) for t in tags) == sorted(expected)
