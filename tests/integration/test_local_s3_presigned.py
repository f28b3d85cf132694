"""LocalAws checks presigned GETs as S3 does (local/aws_s3_presigned.py): a link signed by
botocore is served until its X-Amz-Expires has passed, then refused; one whose key, query or
host was altered is refused (SignatureDoesNotMatch); an unknown key id is refused. The clock is
injected: no test waits for a link to expire."""

from __future__ import annotations

import datetime as dt
import urllib.parse

import boto3
import pytest
from botocore.config import Config

from dynamotalk.local.aws_front import KNOWN_KEYS
from dynamotalk.local.aws_s3_presigned import check_presigned_get, is_presigned_get
from dynamotalk.local.emulators import DUMMY_CREDENTIALS

ENDPOINT = "http://127.0.0.1:4566"
KEY = "exports/u-1/01JD2VX00000000000000000EX.json"


def link(expires: int = 900, key: str = KEY, access_key: str | None = None) -> str:
    client = boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=access_key or DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(signature_version="s3v4"),
    )
    url: str = client.generate_presigned_url(
        "get_object",
        Params={"Bucket": "dynamotalk-local-attachments", "Key": key,
                "ResponseContentDisposition": 'attachment; filename="x.json"'},
        ExpiresIn=expires,
    )  # fmt: skip
    return url


def check(url: str, after_s: float = 0, host: str = "127.0.0.1:4566") -> str | None:
    parts = urllib.parse.urlsplit(url)
    assert is_presigned_get("GET", parts.query)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=after_s)
    refusal = check_presigned_get(
        "GET", parts.path, parts.query, {"host": host}, KNOWN_KEYS, lambda: now
    )
    return None if refusal is None else refusal.code


def test_a_link_is_served_until_it_expires() -> None:
    url = link(900)
    assert check(url) is None
    assert check(url, after_s=890) is None
    assert check(url, after_s=910) == "AccessDenied"


@pytest.mark.parametrize(
    "alter",
    [
        lambda u: u.replace("exports/u-1/", "exports/u-2/"),  # another user's archive
        lambda u: u.replace("X-Amz-Expires=900", "X-Amz-Expires=9000"),  # a longer life
        lambda u: u.replace("filename", "filenam"),  # a signed query parameter
    ],
)
def test_an_altered_link_is_refused(alter: object) -> None:
    url = link()
    assert callable(alter)
    assert check(alter(url)) == "SignatureDoesNotMatch"
    assert check(url, host="evil.example:4566") == "SignatureDoesNotMatch"


def test_unknown_keys_and_plain_gets_are_told_apart() -> None:
    assert check(link(access_key="AKIAUNKNOWN")) == "InvalidAccessKeyId"
    assert not is_presigned_get("GET", "list-type=2")
    assert check(link(key="rooms/r/u/a b+ü.png")) is None  # keys are encoded as S3 does
