"""Cognito on LocalAws behaves like the deployed pool (userpool.py), through boto3 over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from dynamotalk.adapters.cognito import CognitoIdentity
from dynamotalk.local.aws import LocalAws
from dynamotalk.local.provision import LOCAL_POOL, client, ensure_user_pool
from tests.support.cognito import PASSWORD, unique


@pytest.fixture(scope="module")
def local_aws() -> Iterator[str]:
    aws = LocalAws.start()
    yield aws.endpoint
    aws.stop()


@pytest.fixture(scope="module")
def pool(local_aws: str) -> dict[str, Any]:
    cognito = client("cognito-idp", local_aws)
    pool_id, client_id = ensure_user_pool(cognito, unique("strict-"))
    return {"cognito": cognito, "pool_id": pool_id, "client_id": client_id, "endpoint": local_aws}


def sign_up(pool: dict[str, Any], username: str, email: str | None = None) -> None:
    pool["cognito"].sign_up(
        ClientId=pool["client_id"],
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email or f"{username.lower()}@example.com"}],
    )


def confirm(pool: dict[str, Any], username: str, **extra: Any) -> None:
    pool["cognito"].confirm_sign_up(
        ClientId=pool["client_id"], Username=username, ConfirmationCode="123456", **extra
    )


def sign_in(pool: dict[str, Any], username: str, password: str = PASSWORD) -> dict[str, str]:
    reply = pool["cognito"].initiate_auth(
        ClientId=pool["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    result: dict[str, str] = reply["AuthenticationResult"]
    return result


def refusal(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return error.value.response["Error"]["Code"], error.value.response["Error"]["Message"]


def identity(pool: dict[str, Any]) -> CognitoIdentity:
    return CognitoIdentity(
        issuer=f"https://cognito-idp.us-east-1.amazonaws.com/{pool['pool_id']}",
        client_id=pool["client_id"],
        jwks_url=f"{pool['endpoint']}/{pool['pool_id']}/.well-known/jwks.json",
    )


def test_the_pool_is_provisioned_from_the_shared_spec(pool: dict[str, Any]) -> None:
    described = pool["cognito"].describe_user_pool(UserPoolId=pool["pool_id"])["UserPool"]
    assert described["AliasAttributes"] == list(LOCAL_POOL.alias_attributes)
    assert described["UsernameConfiguration"] == {"CaseSensitive": False}
    app = pool["cognito"].describe_user_pool_client(
        UserPoolId=pool["pool_id"], ClientId=pool["client_id"]
    )["UserPoolClient"]
    assert app["PreventUserExistenceErrors"] == "ENABLED"
    assert app["ExplicitAuthFlows"] == list(LOCAL_POOL.client.explicit_auth_flows)


def test_provisioning_again_keeps_ids_and_immutable_settings(pool: dict[str, Any]) -> None:
    stage = pool["cognito"].describe_user_pool(UserPoolId=pool["pool_id"])["UserPool"]["Name"]
    again = ensure_user_pool(pool["cognito"], stage.removeprefix("dynamotalk-"))
    assert again == (pool["pool_id"], pool["client_id"])
    described = pool["cognito"].describe_user_pool(UserPoolId=pool["pool_id"])["UserPool"]
    assert described["UsernameConfiguration"] == {"CaseSensitive": False}
    assert described["AliasAttributes"] == ["email"]


def test_usernames_are_case_insensitive_and_output_lower_cased(pool: dict[str, Any]) -> None:
    name = unique("Carol")
    sign_up(pool, name)
    confirm(pool, name.upper())
    tokens = sign_in(pool, name.swapcase())
    principal = identity(pool).verify(tokens["IdToken"])
    assert principal.username == name.lower()
    with pytest.raises(ClientError) as taken:
        sign_up(pool, name.lower(), f"other-{name.lower()}@example.com")
    assert refusal(taken) == ("UsernameExistsException", "User already exists")


def test_a_verified_email_signs_in_as_an_alias_any_case(pool: dict[str, Any]) -> None:
    name = unique("dave")
    sign_up(pool, name, f"{name}@Example.COM")
    confirm(pool, name)  # the code went to the e-mail: it is verified now
    by_name = identity(pool).verify(sign_in(pool, name)["IdToken"])
    by_email = identity(pool).verify(sign_in(pool, f"{name.upper()}@example.com")["IdToken"])
    assert by_email == by_name


def test_an_unverified_email_is_no_alias(pool: dict[str, Any]) -> None:
    name = unique("erin")
    sign_up(pool, name)
    pool["cognito"].admin_confirm_sign_up(UserPoolId=pool["pool_id"], Username=name)
    assert sign_in(pool, name)["IdToken"]  # confirmed by an admin: e-mail not verified
    with pytest.raises(ClientError) as refused:
        sign_in(pool, f"{name}@example.com")
    assert refusal(refused) == ("NotAuthorizedException", "Incorrect username or password.")


def test_unknown_users_are_hidden_like_a_wrong_password(pool: dict[str, Any]) -> None:
    name = unique("frank")
    sign_up(pool, name)
    confirm(pool, name)
    with pytest.raises(ClientError) as wrong_password:
        sign_in(pool, name, "not-the-password-1")
    with pytest.raises(ClientError) as unknown:
        sign_in(pool, unique("nobody"))
    assert refusal(unknown) == refusal(wrong_password)
    assert refusal(unknown) == ("NotAuthorizedException", "Incorrect username or password.")
    with pytest.raises(ClientError) as confirm_unknown:
        confirm(pool, unique("nobody"))
    assert refusal(confirm_unknown)[0] == "CodeMismatchException"
    delivery = pool["cognito"].resend_confirmation_code(
        ClientId=pool["client_id"], Username=unique("nobody")
    )
    assert delivery["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"


def test_a_confirmed_user_cannot_be_confirmed_again(pool: dict[str, Any]) -> None:
    name = unique("grace")
    sign_up(pool, name)
    confirm(pool, name)
    with pytest.raises(ClientError) as again:
        confirm(pool, name)
    assert refusal(again) == (
        "NotAuthorizedException",
        "User cannot be confirmed. Current status is CONFIRMED",
    )
    with pytest.raises(ClientError) as by_admin:
        pool["cognito"].admin_confirm_sign_up(UserPoolId=pool["pool_id"], Username=name)
    assert refusal(by_admin)[0] == "NotAuthorizedException"


def test_a_username_in_email_format_is_refused_with_an_email_alias(pool: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as refused:
        sign_up(pool, f"{unique('heidi')}@example.com")
    assert refusal(refused)[0] == "InvalidParameterException"


def test_an_email_alias_belongs_to_one_user(pool: dict[str, Any]) -> None:
    first, second = unique("ivan"), unique("judy")
    shared = f"{first}@example.com"
    sign_up(pool, first, shared)
    confirm(pool, first)
    sign_up(pool, second, shared.upper())
    with pytest.raises(ClientError) as taken:
        confirm(pool, second)
    assert refusal(taken)[0] == "AliasExistsException"
    confirm(pool, second, ForceAliasCreation=True)  # the alias moves to the new user
    moved = identity(pool).verify(sign_in(pool, shared)["IdToken"])
    assert moved.username == second
    assert identity(pool).verify(sign_in(pool, first)["IdToken"]).username == first


def test_flows_the_client_does_not_allow_are_refused(pool: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as refused:
        pool["cognito"].initiate_auth(
            ClientId=pool["client_id"],
            AuthFlow="CUSTOM_AUTH",
            AuthParameters={"USERNAME": "anyone"},
        )
    assert refusal(refused) == (
        "InvalidParameterException",
        "CUSTOM_AUTH flow not enabled for this client",
    )


def test_each_pool_signs_with_its_own_key(local_aws: str, pool: dict[str, Any]) -> None:
    cognito = client("cognito-idp", local_aws)
    other_id, _ = ensure_user_pool(cognito, unique("other-"))
    ours = httpx.get(f"{local_aws}/{pool['pool_id']}/.well-known/jwks.json").json()
    theirs = httpx.get(f"{local_aws}/{other_id}/.well-known/jwks.json").json()
    assert ours["keys"][0]["n"] != theirs["keys"][0]["n"]
    assert "d" not in ours["keys"][0]  # the public half only
    missing = httpx.get(f"{local_aws}/us-east-1_nosuchpool/.well-known/jwks.json")
    assert missing.status_code == 404
