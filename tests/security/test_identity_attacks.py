"""F5 and F6 of issue 13's red team, as attacks on the real local stack: a user marking their
own e-mail verified through Cognito, and names that look like the bot's or look blank."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from dynamotalk.local.aws_cognito import UNAUTHORIZED_ATTRIBUTE
from tests.e2e.client import PASSWORD, User, cognito

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def config(stack_url: str) -> dict[str, Any]:
    reply: dict[str, Any] = httpx.get(f"{stack_url}/config.json").json()
    return reply


@pytest.fixture(scope="module")
def eve(stack_url: str) -> User:
    return User(stack_url, "eve")


def signed_in(stack_url: str, config: dict[str, Any], email: str) -> tuple[str, str]:
    """A new user who claims `email` at sign-up: (username, access token)."""
    client = cognito(stack_url)
    name = f"mallory{uuid.uuid4().hex[:6]}"
    client.sign_up(
        ClientId=config["userPoolClientId"],
        Username=name,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    tokens = client.initiate_auth(
        ClientId=config["userPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return name, str(tokens["AccessToken"])


def attributes(stack_url: str, token: str) -> dict[str, str]:
    me = cognito(stack_url).get_user(AccessToken=token)
    return {a["Name"]: a["Value"] for a in me["UserAttributes"]}


def refuses_sign_in(stack_url: str, config: dict[str, Any], email: str) -> None:
    with pytest.raises(ClientError) as refused:
        cognito(stack_url).initiate_auth(
            ClientId=config["userPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
        )
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


@pytest.mark.parametrize("flag", ["email_verified", "phone_number_verified"])
def test_a_user_cannot_mark_their_own_address_verified(
    stack_url: str, config: dict[str, Any], flag: str
) -> None:
    victim = f"ceo{uuid.uuid4().hex[:6]}@victim.example"
    _, token = signed_in(stack_url, config, victim)
    with pytest.raises(ClientError) as refused:
        cognito(stack_url).update_user_attributes(
            AccessToken=token, UserAttributes=[{"Name": flag, "Value": "true"}]
        )
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("NotAuthorizedException", UNAUTHORIZED_ATTRIBUTE)
    assert attributes(stack_url, token).get(flag) != "true"
    refuses_sign_in(stack_url, config, victim)


def test_sign_up_cannot_claim_a_verified_address(stack_url: str, config: dict[str, Any]) -> None:
    victim = f"ceo{uuid.uuid4().hex[:6]}@victim.example"
    with pytest.raises(ClientError) as refused:
        cognito(stack_url).sign_up(
            ClientId=config["userPoolClientId"],
            Username=f"mallory{uuid.uuid4().hex[:6]}",
            Password=PASSWORD,
            UserAttributes=[
                {"Name": "email", "Value": victim},
                {"Name": "email_verified", "Value": "true"},
            ],
        )
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("NotAuthorizedException", UNAUTHORIZED_ATTRIBUTE)
    refuses_sign_in(stack_url, config, victim)


def test_attributes_outside_the_clients_list_are_refused(
    stack_url: str, config: dict[str, Any]
) -> None:
    _, token = signed_in(stack_url, config, f"{uuid.uuid4().hex[:8]}@example.com")
    with pytest.raises(ClientError) as refused:
        cognito(stack_url).update_user_attributes(
            AccessToken=token, UserAttributes=[{"Name": "name", "Value": "DynamoTalk bot"}]
        )
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_a_changed_address_is_no_longer_verified(
    stack_url: str, config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Verify a real address, then swap in the victim's: it must not inherit the verification."""
    name, token = signed_in(stack_url, config, f"{uuid.uuid4().hex[:8]}@example.com")
    client = cognito(stack_url)
    client.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    marker = f"verification code for {name} (email): "
    codes = [
        line.rsplit(marker, 1)[1].strip()
        for log in tmp_path_factory.getbasetemp().glob("dev-data*/dev.log")
        for line in log.read_text().splitlines()
        if marker in line
    ]
    client.verify_user_attribute(AccessToken=token, AttributeName="email", Code=codes[-1])
    assert attributes(stack_url, token)["email_verified"] == "true"
    victim = f"ceo{uuid.uuid4().hex[:6]}@victim.example"
    client.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "email", "Value": victim}]
    )
    after = attributes(stack_url, token)
    assert (after["email"], after.get("email_verified")) == (victim, "false")
    refuses_sign_in(stack_url, config, victim)


@pytest.mark.parametrize(
    "name",
    [
        "Dynam\u0585Talk bot",  # Armenian o
        "b\u1d0ft",  # small capital o
        "\u0184ot",  # tone six, a b with a hook
        "\u13f4OT",  # Cherokee B
        "bot \u2713",
        "bot (AI)",
        "Bot\u2800",
        "bot\u3164",
        "the-bot",
    ],
)
def test_look_alike_and_decorated_bot_names_are_refused(eve: User, name: str) -> None:
    reply = eve.request("PATCH", "/me", {"displayName": name})
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["code"] == "invalid_input"
    assert eve.get("/me")["user"]["displayName"] != name


@pytest.mark.parametrize("blank", ["\u3164", "\u2800", "\u115f\u1160", "\uffa0", " \u3164 "])
def test_names_that_draw_nothing_are_refused(eve: User, blank: str) -> None:
    named = eve.request("PATCH", "/me", {"displayName": blank})
    assert named.status_code == 400, named.text
    assert named.json()["error"]["code"] == "invalid_input"
    room = eve.request("POST", "/rooms", {"name": blank, "kind": "public"})
    assert room.status_code == 400, room.text
    assert room.json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize("name", ["Abbott", "bot1", "Robot Bob", "Zo\u00eb \u2713", "\u674e\u96f7"])
def test_ordinary_names_still_pass(eve: User, name: str) -> None:
    reply = eve.request("PATCH", "/me", {"displayName": name})
    assert reply.status_code == 200, reply.text
    assert eve.get("/me")["user"]["displayName"] == name


@pytest.mark.parametrize("name", ["the-bot", "bot.admin", "admin_anna"])
def test_decorated_usernames_are_refused_at_sign_up(
    stack_url: str, config: dict[str, Any], name: str
) -> None:
    with pytest.raises(ClientError) as refused:
        cognito(stack_url).sign_up(
            ClientId=config["userPoolClientId"],
            Username=name,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": f"{uuid.uuid4().hex[:8]}@example.com"}],
        )
    assert refused.value.response["Error"]["Code"] in (
        "UserLambdaValidationException",
        "InvalidParameterException",
    )
