"""Who the client is: sign up, sign in and refresh with the stage's Cognito user pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from dynamotalk.client.config import ChatClientError


def cognito_client(endpoint: str | None, region: str) -> Any:
    """An unsigned Cognito client: sign-up and sign-in need no AWS credentials."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    return boto3.client(
        "cognito-idp",
        region_name=region,
        endpoint_url=endpoint,
        config=Config(signature_version=UNSIGNED),
    )


def ask_verification_code(email: str) -> str:
    return input(f"verification code sent to {email}: ").strip()


@attrs.define
class Session:
    config: dict[str, str]
    username: str
    id_token: str = ""
    refresh_token: str = ""
    user_id: str = ""

    def cognito(self) -> Any:
        return cognito_client(self.config.get("cognitoUrl"), self.config["region"])

    def sign_in(self, password: str, email: str | None) -> None:
        """Sign in; with --email, sign up first if the name is free.

        A deployed pool hides whether a user exists (an unknown name and a wrong password both
        answer NotAuthorizedException), so "unknown user" is learnt from SignUp, not sign-in.
        """
        client = self.cognito()
        try:
            reply = self._initiate(client, password)
        except (client.exceptions.NotAuthorizedException, client.exceptions.UserNotFoundException):
            if not email:
                raise ChatClientError(
                    "wrong username or password (add --email to sign up a new user)"
                ) from None
            if not self.sign_up(client, password, email):
                raise ChatClientError("wrong username or password") from None
            reply = self._initiate(client, password)
        result = reply["AuthenticationResult"]
        self.id_token = result["IdToken"]
        self.refresh_token = result.get("RefreshToken", self.refresh_token)

    def _initiate(self, client: Any, password: str) -> Any:
        return client.initiate_auth(
            ClientId=self.config["userPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": self.username, "PASSWORD": password},
        )

    def sign_up(
        self,
        client: Any,
        password: str,
        email: str,
        verification_code: Callable[[str], str] = ask_verification_code,
    ) -> bool:
        """Sign up and confirm; False if the name is taken (then the password was wrong).

        A pool that does not confirm sign-ups itself mails a code: `verification_code(email)`
        asks the user for it."""
        try:
            answer = client.sign_up(
                ClientId=self.config["userPoolClientId"],
                Username=self.username,
                Password=password,
                UserAttributes=[{"Name": "email", "Value": email}],
            )
        except client.exceptions.UsernameExistsException:
            return False
        except client.exceptions.ClientError as error:
            raise ChatClientError(
                f"sign-up refused: {error.response['Error']['Message']}"
            ) from None
        if not answer.get("UserConfirmed"):
            client.confirm_sign_up(
                ClientId=self.config["userPoolClientId"],
                Username=self.username,
                ConfirmationCode=verification_code(email),
            )
        return True

    def refresh(self) -> None:
        if not self.refresh_token:
            return
        reply = self.cognito().initiate_auth(
            ClientId=self.config["userPoolClientId"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": self.refresh_token},
        )
        self.id_token = reply["AuthenticationResult"]["IdToken"]

    def expires_at(self) -> float:
        """The ID token's `exp` (epoch seconds), read without verifying: the server verifies."""
        import jwt

        claims = jwt.decode(self.id_token, options={"verify_signature": False})
        return float(claims.get("exp", 0))
