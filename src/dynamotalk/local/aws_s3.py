"""S3 browser-based uploads (presigned POST) checked the way S3 checks them; moto checks nothing.

S3's rules (AWS docs "POST Policy" and "Authenticating Requests in Browser-Based Uploads Using
POST (AWS Signature Version 4)"): the form carries a base64 JSON policy signed with SigV4;
S3 verifies the signature, refuses an expired policy, and checks every condition (exact and
starts-with matches on form fields, `bucket` against the URL's bucket, content-length-range
against the file). Every form field must be covered by a condition, except the signature,
the policy, the file and `x-ignore-*` fields. New buckets accept SigV4 only (SigV2 was turned
off for buckets created after June 2020), so a SigV2 form is refused here too.
Each refusal is S3's code and message in S3's XML error body.

A form's `tagging` field (S3's Tagging XML) tags the object it stores; moto ignores the field,
so LocalAws applies the tags itself after a successful upload (`form_tags`). Malformed XML or
tags S3 would refuse (more than 10, a key over 128 or a value over 256 characters, a repeated
key; AWS docs "Categorizing your storage using tags") fail the upload, as on S3.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import io
import json
from collections.abc import Callable, Mapping
from typing import Any
from xml.sax.saxutils import escape

import attrs

EXEMPT_FIELDS = {"x-amz-signature", "file", "policy"}


@attrs.frozen
class S3Refusal:
    status: int
    code: str
    message: str
    extra: tuple[tuple[str, str], ...] = ()

    def body(self) -> bytes:
        details = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in self.extra)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>"
            f"{details}<RequestId>LOCAL</RequestId><HostId>LOCAL</HostId></Error>"
        ).encode()


def _denied(message: str) -> S3Refusal:
    return S3Refusal(403, "AccessDenied", message)


def _invalid_policy(message: str) -> S3Refusal:
    return S3Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: {message}")


def is_form_upload(method: str, path: str, query: str, content_type: str) -> bool:
    """A POST Object: multipart form data to a bucket's root (path-style URL)."""
    parts = [p for p in path.split("/") if p]
    return (
        method == "POST"
        and len(parts) == 1
        and not query
        and content_type.lower().startswith("multipart/form-data")
    )


def parse_form(body: bytes, content_type: str) -> tuple[dict[str, str], bytes | None]:
    """The form fields (names lower-cased: S3 matches them case-insensitively) and the file."""
    from werkzeug.formparser import parse_form_data

    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    _, form, files = parse_form_data(environ)
    fields = {name.lower(): value for name, value in form.items()}
    upload = files.get("file")
    return fields, (upload.read() if upload is not None else None)


def check_form_upload(
    bucket: str,
    fields: Mapping[str, str],
    content: bytes | None,
    secrets: Mapping[str, str],
    now: Callable[[], dt.datetime],
) -> S3Refusal | None:
    """None when S3 would accept this upload, else S3's refusal."""
    if "awsaccesskeyid" in fields or "signature" in fields:
        return S3Refusal(
            400,
            "InvalidRequest",
            "The authorization mechanism you have provided is not supported. "
            "Please use AWS4-HMAC-SHA256.",
        )
    for required in ("key", "policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date"):
        if required not in fields:
            return S3Refusal(
                400,
                "InvalidArgument",
                f"Bucket POST must contain a field named '{required}'.  If it is specified, "
                "please check the order of the fields.",
            )
    if "x-amz-signature" not in fields:
        return _denied("Access Denied")
    if content is None:
        return S3Refusal(
            400, "InvalidArgument", "POST requires exactly one file upload per request."
        )
    refusal = _check_signature(fields, secrets)
    if refusal is not None:
        return refusal
    try:
        policy = json.loads(base64.b64decode(fields["policy"], validate=True))
    except (ValueError, binascii.Error):
        return _invalid_policy("Invalid JSON.")
    if not isinstance(policy, dict) or not isinstance(policy.get("conditions"), list):
        return _invalid_policy("Invalid Policy Conditions.")
    expiration = _parse_time(policy.get("expiration"))
    if expiration is None:
        return _invalid_policy("Invalid 'expiration' value.")
    if now() > expiration:
        return _denied("Invalid according to Policy: Policy expired.")
    return _check_conditions(bucket, fields, content, policy["conditions"])


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _check_signature(fields: Mapping[str, str], secrets: Mapping[str, str]) -> S3Refusal | None:
    if fields["x-amz-algorithm"] != "AWS4-HMAC-SHA256":
        return S3Refusal(
            400, "InvalidArgument", "Only AWS4-HMAC-SHA256 is supported for x-amz-algorithm."
        )
    scope = fields["x-amz-credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or scope[3] != "s3":
        return S3Refusal(400, "InvalidArgument", "Error parsing the X-Amz-Credential parameter.")
    access_key, date, region, service, _ = scope
    secret = secrets.get(access_key)
    if secret is None:
        return S3Refusal(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            (("AWSAccessKeyId", access_key),),
        )
    expected = hmac.new(
        _signing_key(secret, date, region, service), fields["policy"].encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, fields["x-amz-signature"].lower()):
        return S3Refusal(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
    return None


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    for pattern in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return dt.datetime.strptime(value, pattern).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def _shown(condition: Any) -> str:
    """How S3 quotes a failed condition: always the list form."""
    if isinstance(condition, dict):
        ((name, value),) = condition.items()
        condition = ["eq", f"${name}", value]
    return json.dumps(condition, separators=(", ", ": "))


def _check_conditions(
    bucket: str, fields: Mapping[str, str], content: bytes, conditions: list[Any]
) -> S3Refusal | None:
    covered: set[str] = set()
    size_range: tuple[int, int] | None = None
    for condition in conditions:
        if isinstance(condition, dict) and len(condition) == 1:
            ((name, wanted),) = condition.items()
            operator, field = "eq", str(name).lower()
        elif isinstance(condition, list) and len(condition) == 3:
            operator = str(condition[0]).lower()
            if operator == "content-length-range":
                try:
                    size_range = (int(condition[1]), int(condition[2]))
                except (TypeError, ValueError):
                    return _invalid_policy("Invalid content-length-range.")
                continue
            if operator not in ("eq", "starts-with") or not str(condition[1]).startswith("$"):
                return _invalid_policy(f"Invalid condition: {_shown(condition)}")
            field, wanted = str(condition[1])[1:].lower(), condition[2]
        else:
            return _invalid_policy("Invalid Policy Conditions.")
        if not isinstance(wanted, str):
            return _invalid_policy(f"Invalid condition: {_shown(condition)}")
        covered.add(field)
        actual = bucket if field == "bucket" else fields.get(field, "")
        if not _matches(operator, field, actual, wanted):
            return _denied(
                f"Invalid according to Policy: Policy Condition failed: {_shown(condition)}"
            )
    extra = sorted(
        name
        for name in fields
        if name not in covered and name not in EXEMPT_FIELDS and not name.startswith("x-ignore-")
    )
    if extra:
        return _denied(f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")
    if size_range is not None:
        low, high = size_range
        if len(content) > high:
            return S3Refusal(
                400,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                (("ProposedSize", str(len(content))), ("MaxSizeAllowed", str(high))),
            )
        if len(content) < low:
            return S3Refusal(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                (("ProposedSize", str(len(content))), ("MinSizeAllowed", str(low))),
            )
    return None


def _matches(operator: str, field: str, actual: str, wanted: str) -> bool:
    if operator == "eq":
        return actual == wanted
    if field == "content-type":
        # S3: a comma-separated Content-Type matches when every value starts with the prefix.
        return all(part.strip().startswith(wanted) for part in actual.split(","))
    return actual.startswith(wanted)


MAX_OBJECT_TAGS = 10


def form_tags(fields: Mapping[str, str]) -> dict[str, str] | S3Refusal:
    """The tags a form's `tagging` field asks for ({} without one), or S3's refusal."""
    text = fields.get("tagging")
    if text is None:
        return {}
    import xml.etree.ElementTree as ElementTree

    malformed = S3Refusal(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
    if "<!" in text:
        return malformed  # no DTD, no entities: nothing for the parser to expand
    try:
        root = ElementTree.fromstring(text)  # noqa: S314 - DTDs refused above
    except ElementTree.ParseError:
        return malformed
    tag_set = root.find("TagSet") if root.tag == "Tagging" else None
    if tag_set is None:
        return malformed
    tags: dict[str, str] = {}
    for tag in tag_set:
        key, value = tag.findtext("Key"), tag.findtext("Value", default="")
        if tag.tag != "Tag" or key is None:
            return malformed
        if key in tags or len(key) > 128 or len(value) > 256 or key.startswith("aws:"):
            return S3Refusal(
                400, "InvalidTag", "The TagKey or TagValue you have provided is invalid"
            )
        tags[key] = value
    if len(tags) > MAX_OBJECT_TAGS:
        return S3Refusal(400, "BadRequest", "Object tags cannot be greater than 10")
    return tags
