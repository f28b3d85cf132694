"""The gateway's Cognito front door runs the sign-up triggers the way Cognito does."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.client import PASSWORD, cognito


def test_a_mixed_case_sign_up_gets_a_lower_case_profile_and_a_usable_email_alias(
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
    # autoVerifyEmail from the pre sign-up trigger makes the address a verified alias at once.
    tokens = client.initiate_auth(
        ClientId=config["userPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    me = httpx.get(
        f"{config['httpUrl']}/me", headers={"authorization": tokens["IdToken"]}, timeout=15
    ).json()["user"]
    # A case-insensitive pool hands triggers the lower-cased name: the profile matches it.
    assert me["username"] == name.lower()
