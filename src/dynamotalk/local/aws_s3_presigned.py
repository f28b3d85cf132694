"""S3 presigned GETs (query-string SigV4) checked the way S3 checks them; moto serves any.

The status route of "export my data" (and the attachments' download route) hand out presigned
GET links: S3 refuses one whose signature does not match its method, key, query and host
(SignatureDoesNotMatch, 403) and one used after its `X-Amz-Expires` (AccessDenied "Request has
expired", 403). Sources: "Authenticating Requests: Using Query Parameters (AWS Signature
Version 4)", https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html, and
"Download and upload objects with presigned URLs",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import urllib.parse
from collections.abc import Callable, Mapping

from dynamotalk.local.aws_s3 import S3Refusal, _signing_key

ALGORITHM = "AWS4-HMAC-SHA256"
SIGNATURE = "X-Amz-Signature"


def is_presigned_get(method: str, query: str) -> bool:
    return method in ("GET", "HEAD") and f"{SIGNATURE}=" in query


def _quote(value: str, safe: str = "-_.~") -> str:
    return urllib.parse.quote(value, safe=safe)


def check_presigned_get(
    method: str,
    raw_path: str,
    query: str,
    headers: Mapping[str, str],
    secrets: Mapping[str, str],
    now: Callable[[], dt.datetime],
) -> S3Refusal | None:
    """None when S3 would serve this presigned request; else its refusal. `raw_path` is the
    path as sent (still percent-encoded), `headers` lower-cased names."""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    params = dict(pairs)
    try:
        credential = params["X-Amz-Credential"]
        stamp = params["X-Amz-Date"]
        expires = int(params["X-Amz-Expires"])
        signed_headers = params["X-Amz-SignedHeaders"]
        signature = params[SIGNATURE]
        assert params["X-Amz-Algorithm"] == ALGORITHM
        access_key, date, region, service, terminal = credential.split("/")
        assert terminal == "aws4_request"
        signed_at = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except (KeyError, ValueError, AssertionError):
        return S3Refusal(400, "AuthorizationQueryParametersError", "Malformed presigned query.")
    if not 1 <= expires <= 604_800:
        return S3Refusal(400, "AuthorizationQueryParametersError", "X-Amz-Expires out of range.")
    if now() > signed_at + dt.timedelta(seconds=expires):
        return S3Refusal(403, "AccessDenied", "Request has expired")
    secret = secrets.get(access_key)
    if secret is None:
        return S3Refusal(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does "
                         "not exist in our records.")  # fmt: skip
    canonical_query = "&".join(
        f"{_quote(k)}={_quote(v)}" for k, v in sorted(pairs) if k != SIGNATURE
    )
    names = signed_headers.split(";")
    canonical_headers = "".join(f"{n}:{headers.get(n, '').strip()}\n" for n in names)
    path = _quote(urllib.parse.unquote(raw_path), safe="/~-_.")
    request = "\n".join(
        [method, path, canonical_query, canonical_headers, signed_headers, "UNSIGNED-PAYLOAD"]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(request.encode()).hexdigest()])
    expected = hmac.new(
        _signing_key(secret, date, region, service), to_sign.encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        return S3Refusal(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
    return None
