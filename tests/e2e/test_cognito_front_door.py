"""The gateway's Cognito front door runs the sign-up triggers the way Cognito does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.e2e.client import PASSWORD, cognito


def test_a_mixed_case_sign_up_gets_a_lower_case_profile_and_an_unverified_email(
    stack_url: str,
) -> None:
    config = httpx.get(f"{stack_url}/config.json").json()
    client = cognito(stack_url)
    name = f"Mixed{uuid.uuid4().hex[:6]}"
    email = f"{name.lower()}@example.com"
    answer = client.sign_up(
        ClientId=config["userPoolClientId"],
        Username=name,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    assert answer["UserConfirmed"]
    # Auto-confirm never verifies the address (M5 of issue 13): it is no sign-in alias yet.
    with pytest.raises(ClientError) as refused:
        client.initiate_auth(
            ClientId=config["userPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
        )
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    tokens = client.initiate_auth(
        ClientId=config["userPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name.upper(), "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    me = httpx.get(
        f"{config['httpUrl']}/me", headers={"authorization": tokens["IdToken"]}, timeout=15
    ).json()["user"]
    # A case-insensitive pool hands triggers the lower-cased name: the profile matches it.
    assert me["username"] == name.lower()


def test_admin_operations_are_not_served_on_the_public_endpoint(stack_url: str) -> None:
    """On AWS, AdminSetUserPassword and friends need a SigV4-signed IAM caller; the front door a
    browser reaches (CORS `*`, like Cognito's) serves only what AWS serves without one."""
    config = httpx.get(f"{stack_url}/config.json").json()
    client = cognito(stack_url)
    with pytest.raises(ClientError) as refused:
        client.admin_set_user_password(
            UserPoolId=config["userPoolId"], Username="anyone", Password=PASSWORD, Permanent=True
        )
    assert refused.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    with pytest.raises(ClientError) as listed:
        client.list_users(UserPoolId=config["userPoolId"])
    assert listed.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"


def test_internal_endpoints_refuse_browsers_and_foreign_host_names(stack_url: str) -> None:
    # A cross-site page posts with its Origin; a DNS-rebinding page sends its own Host.
    evil = {"origin": "http://evil.example"}
    assert httpx.post(f"{stack_url}/_local/connections/x/drop", headers=evil).status_code == 403
    assert httpx.get(f"{stack_url}/_local/connections", headers=evil).status_code == 403
    assert httpx.post(f"{stack_url}/@connections/x", headers=evil, content=b"{}").status_code == 403
    rebound = httpx.get(f"{stack_url}/_local/connections", headers={"host": "evil.example"})
    assert rebound.status_code == 400
    # Without a browser's headers the hooks still answer (the tests and functions use them).
    assert httpx.get(f"{stack_url}/_local/connections").status_code == 200


def test_a_chunked_body_over_the_http_apis_payload_limit_is_refused(stack_url: str) -> None:
    """No Content-Length to check up front: the gateway counts the bytes as they arrive."""
    from dynamotalk import quotas

    def chunks() -> Iterator[bytes]:
        block = b"x" * 1024 * 1024
        for _ in range(quotas.HTTP_PAYLOAD_BYTES // len(block) + 2):
            yield block

    reply = httpx.post(f"{stack_url}/api/rooms", content=chunks(), timeout=60)
    assert (reply.status_code, reply.json()) == (413, {"message": "Request Entity Too Large"})
