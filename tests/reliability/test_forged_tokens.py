"""R3 identity: forged and broken tokens are refused by the WebSocket authorizer and by the
HTTP JWT path of the gateway, and none is ever logged."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.test_cognito_identity import forged_tokens
from tests.support.cognito import Forger
from tests.support.lambda_stack import Stack


def tokens_for(issuer: str, client_id: str) -> dict[str, str]:
    """Every forgery aimed at the real pool: right issuer and client, one thing wrong each."""
    return forged_tokens(Forger(issuer, client_id))


@pytest.fixture(scope="module")
def forged(lambda_stack: Stack) -> dict[str, str]:
    resources = lambda_stack.resources
    issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{resources.user_pool_id}"
    tokens = tokens_for(issuer, resources.user_pool_client_id)
    assert len(tokens) >= 12
    return tokens


def test_ws_authorizer_refuses_every_forged_token_without_logging_it(
    lambda_stack: Stack, forged: dict[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    capfd.readouterr()
    for token in forged.values():
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            lambda_stack.authorize(token)
        # offered as a subprotocol it is not even read (the identity source is the query)
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            lambda_stack.authorize(token, via_protocol=True)
    logs = capfd.readouterr()
    for name, token in forged.items():
        if len(token) > 8:
            assert token not in logs.out + logs.err, name


def test_http_jwt_path_refuses_every_forged_token(stack_url: str) -> None:
    config = httpx.get(f"{stack_url}/config.json").json()
    issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{config['userPoolId']}"
    for name, token in tokens_for(issuer, config["userPoolClientId"]).items():
        header = f"Bearer {token}" if token else "Bearer"  # httpx refuses a trailing space
        reply = httpx.get(f"{stack_url}/api/rooms", headers={"authorization": header})
        assert reply.status_code == 401, name
        assert reply.json() == {"message": "Unauthorized"}
