"""Hardening, through the real local stack: the web origin's security headers (and a client
that needs no inline code to live under them), the stage's password policy as Cognito enforces
it, and uploads that expire unless a message or profile references them.

Findings (issue 13, "Low"): the distribution sent no security headers; the password policy was
weak (8 or 10 characters) with no MFA; uploads nobody used were never cleaned up.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from dynamotalk import upload_expiry, webheaders
from dynamotalk.local import provision
from dynamotalk.local.emulators import DUMMY_CREDENTIALS
from dynamotalk.userpool import PROTECTED_MIN_PASSWORD, user_pool_spec
from tests.e2e.client import User, cognito

WEB = Path(__file__).resolve().parents[2] / "web"
REFERENCED = [{"Key": upload_expiry.REFERENCED_TAG[0], "Value": upload_expiry.REFERENCED_TAG[1]}]
UNREFERENCED = [
    {"Key": upload_expiry.UNREFERENCED_TAG[0], "Value": upload_expiry.UNREFERENCED_TAG[1]}
]


# --- headers on the web origin ----------------------------------------------------------------


def test_the_web_origin_sends_the_security_headers(stack_url: str, stack_web_url: str) -> None:
    config = httpx.get(f"{stack_web_url}/config.json").json()
    for path in ("/", "/main.js", "/config.json", "/no-such-file"):
        headers = httpx.get(f"{stack_web_url}{path}").headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["referrer-policy"] == "no-referrer", path
        assert headers["strict-transport-security"].startswith("max-age=31536000"), path
        csp = dict(
            part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";")
        )
        assert csp["script-src"] == csp["style-src"] == "'self'", path
        assert csp["frame-ancestors"] == csp["object-src"] == csp["base-uri"] == "'none'"
        # Exactly what the client talks to: this stage's API, its WebSocket, its Cognito
        # front door (the API origin here) and its S3 endpoint; nothing else.
        s3 = (
            webheaders.source_of(_upload_form(User(stack_url, "hdr"))["url"])
            if path == "/"
            else None
        )
        if s3 is not None:
            wanted = {
                "'self'",
                *(webheaders.source_of(config[k]) for k in ("httpUrl", "wsUrl", "cognitoUrl")),
                s3,
            }
            assert set(csp["connect-src"].split()) == wanted
            assert set(csp["img-src"].split()) == {"'self'", s3}


def test_the_api_origin_is_not_given_the_page_headers(stack_url: str) -> None:
    """The headers are the web origin's: the API's JSON answers do not carry the page CSP."""
    assert "content-security-policy" not in httpx.get(f"{stack_url}/health").headers


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)


def test_the_web_client_needs_no_inline_code_or_style() -> None:
    """What the CSP forbids, the client never uses (a browser run checks it too: test_web)."""
    html = (WEB / "index.html").read_text()
    assert not INLINE_SCRIPT.search(html)
    assert not INLINE_HANDLER.search(html)
    assert not STYLE_ATTRIBUTE.search(html)
    assert "<style" not in html.lower()
    script = "\n".join(path.read_text() for path in sorted(WEB.glob("**/*.js")))
    assert "bindSignIn" in script  # the client's modules were read
    for sink in (".innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert sink not in script
    assert not re.search(r"setAttribute\(\s*[\"']style", script)
    assert not re.search(r"setAttribute\(\s*[\"']on", script)
    assert "eval(" not in script
    assert "new Function" not in script


# --- password policy ------------------------------------------------------------------------


def _sign_up(client: Any, client_id: str, password: str) -> dict[str, Any]:
    name = f"pw{uuid.uuid4().hex[:8]}"
    answer: dict[str, Any] = client.sign_up(
        ClientId=client_id,
        Username=name,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
    )
    return answer


def test_a_weak_password_is_refused_at_sign_up_on_the_local_stage(stack_url: str) -> None:
    config = httpx.get(f"{stack_url}/config.json").json()
    client = cognito(stack_url)
    for weak, why in (("short1a", "not long enough"), ("nodigitsatall", "numeric")):
        with pytest.raises(ClientError) as refused:
            _sign_up(client, config["userPoolClientId"], weak)
        error = refused.value.response["Error"]
        assert error["Code"] == "InvalidPasswordException"
        assert why in error["Message"]


def test_a_weak_password_cannot_come_back_through_a_password_reset(stack_url: str) -> None:
    """moto sets any password in ConfirmForgotPassword; Cognito checks the policy there too."""
    config = httpx.get(f"{stack_url}/config.json").json()
    user = User(stack_url, "reset")
    client = cognito(stack_url)
    client.forgot_password(ClientId=config["userPoolClientId"], Username=user.name)
    with pytest.raises(ClientError) as refused:
        client.confirm_forgot_password(
            ClientId=config["userPoolClientId"],
            Username=user.name,
            ConfirmationCode="123456",
            Password="weak1",
        )
    assert refused.value.response["Error"]["Code"] == "InvalidPasswordException"


def test_the_prod_policy_refuses_passwords_under_12_characters(moto_server: str) -> None:
    """The prod pool spec, provisioned on LocalAws as `pulumi up` would make it on Cognito."""
    admin = provision.client("cognito-idp", moto_server)
    spec = user_pool_spec(protected=True)
    pool_id, client_id = provision.ensure_user_pool(admin, f"prod{uuid.uuid4().hex[:6]}", spec)
    mfa = admin.get_user_pool_mfa_config(UserPoolId=pool_id)
    assert mfa["MfaConfiguration"] == "OPTIONAL"
    assert mfa["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    public = boto3.client(
        "cognito-idp",
        endpoint_url=moto_server,
        region_name=provision.REGION,
        config=Config(signature_version=UNSIGNED),
    )
    eleven = "abcdefghij1"
    assert len(eleven) == PROTECTED_MIN_PASSWORD - 1
    with pytest.raises(ClientError) as refused:
        _sign_up(public, client_id, eleven)
    assert refused.value.response["Error"]["Code"] == "InvalidPasswordException"
    assert "not long enough" in refused.value.response["Error"]["Message"]
    assert "UserSub" in _sign_up(public, client_id, eleven + "2")


# --- uploads nobody references expire --------------------------------------------------------


def _upload_form(user: User, purpose: str = "avatar", room_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "purpose": purpose,
        "filename": "me.png",
        "contentType": "image/png",
        "size": 12,
    }
    if room_id is not None:
        body["roomId"] = room_id
    form: dict[str, Any] = user.post("/uploads", body)["upload"]
    return form


def _upload(form: dict[str, Any], fields: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        form["url"],
        data=form["fields"] if fields is None else fields,
        files={"file": ("me.png", b"\x89PNG small!", "image/png")},
    )


def _tags(form: dict[str, Any]) -> list[dict[str, str]]:
    url = urlsplit(form["url"])
    s3 = boto3.client(
        "s3",
        endpoint_url=f"{url.scheme}://{url.netloc}",
        region_name=provision.REGION,
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    bucket = url.path.strip("/")
    tags: list[dict[str, str]] = s3.get_object_tagging(Bucket=bucket, Key=form["key"])["TagSet"]
    return tags


@pytest.fixture(scope="module")
def uploader(stack_url: str) -> User:
    return User(stack_url, "upl")


def test_an_upload_nothing_references_stays_tagged_for_expiry(uploader: User) -> None:
    form = _upload_form(uploader)
    assert _upload(form).status_code == 204
    assert _tags(form) == UNREFERENCED


def test_the_uploader_cannot_drop_or_change_the_tag(uploader: User) -> None:
    form = _upload_form(uploader)
    without = {k: v for k, v in form["fields"].items() if k != "tagging"}
    changed = {**form["fields"], "tagging": "<Tagging><TagSet></TagSet></Tagging>"}
    for fields in (without, changed):
        refused = _upload(form, fields)
        assert refused.status_code == 403
        assert b"<Code>AccessDenied</Code>" in refused.content
        assert b"tagging" in refused.content


def test_an_avatar_set_on_the_profile_is_retagged_referenced(uploader: User) -> None:
    form = _upload_form(uploader)
    assert _upload(form).status_code == 204
    reply = uploader.request("PATCH", "/me", {"avatarKey": form["key"]})
    assert reply.status_code == 200, reply.text
    assert _tags(form) == REFERENCED


def test_an_attachment_sent_in_a_message_is_retagged_referenced(uploader: User) -> None:
    room_id = uploader.room(f"files {uuid.uuid4().hex[:6]}")
    sent, unsent = (_upload_form(uploader, "attachment", room_id) for _ in range(2))
    for form in (sent, unsent):
        assert _upload(form).status_code == 204
    socket = uploader.socket()
    try:
        reply = socket.call(
            {
                "action": "sendMessage",
                "roomId": room_id,
                "text": "see attached",
                "clientId": uuid.uuid4().hex,
                "attachments": [
                    {"key": sent["key"], "name": "me.png", "contentType": "image/png", "size": 12}
                ],
            }
        )
    finally:
        socket.close()
    assert reply["type"] == "ack", reply
    assert _tags(sent) == REFERENCED
    assert _tags(unsent) == UNREFERENCED
