"""The Cognito front door on `POST /cognito`: forwards Cognito's public JSON API to the
emulator and runs the pre sign-up and post confirmation triggers it does not run; CORS for any
origin, as Cognito's public endpoint."""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from collections.abc import Mapping
from typing import Any

import attrs
import httpx
from botocore.exceptions import ClientError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dynamotalk.local import events
from dynamotalk.local.emulators import DUMMY_CREDENTIALS
from dynamotalk.local.gateway.invoke import Functions, InvocationError
from dynamotalk.routes import COGNITO_TRIGGERS
from dynamotalk.userpool import user_pool_spec

COGNITO_CORS_HEADERS = "authorization, content-type, x-amz-target, x-amz-user-agent"
"""Request headers browsers send to Cognito's public endpoint."""
_UNSIGNED_COGNITO = (
    f"AWS4-HMAC-SHA256 Credential=local/20260101/{events.REGION}/cognito-idp/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


@attrs.frozen
class _SignUpTrigger:
    """What the pre sign-up trigger answered."""

    auto_confirm: bool = False
    auto_verify_email: bool = False


@attrs.define
class CognitoProxy:
    functions: Functions
    endpoint: str | None
    """The Cognito emulator (moto's server)."""
    user_pool_id: str
    user_pool_client_id: str
    _client: httpx.AsyncClient | None = attrs.field(default=None, init=False)
    """One connection pool to the emulator for the gateway's life (made on the first call, on
    the gateway's event loop; closed with the gateway, aclose)."""
    _admin: Any = attrs.field(default=None, init=False)
    """One boto3 client for the triggers' admin calls: building one costs tens of ms of CPU
    (botocore's models), more than the sign-up it serves. boto3 clients are thread-safe."""
    _admin_lock: threading.Lock = attrs.Factory(threading.Lock)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def cognito(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_cognito_cors(request, preflight=True))
        target = request.headers.get("x-amz-target", "")
        operation = target.rsplit(".", 1)[-1]
        if operation not in _public_cognito_operations():
            # Admin and pool operations need a SigV4-signed IAM caller on AWS; this front door
            # is the public endpoint a browser reaches, so it serves the public ones only.
            return _cognito_error(
                request, "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        raw = await request.body()
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            return _cognito_error(request, "InvalidParameterException", "body is not JSON")
        trigger = _SignUpTrigger()
        if operation == "SignUp":
            refused, trigger = await self._pre_signup(payload)
            if refused is not None:
                return _cognito_error(request, "UserLambdaValidationException", refused)
        headers = {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": target,
            # moto routes by SigV4 scope; browsers don't sign Cognito's public calls.
            "authorization": _UNSIGNED_COGNITO,
        }
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10)
        upstream = await self._client.post(f"{self.endpoint}/", content=raw, headers=headers)
        content = upstream.content
        if upstream.status_code == 200 and operation in ("SignUp", "ConfirmSignUp"):
            try:
                await self._after_signup(operation, payload, trigger)
            except (InvocationError, ClientError) as error:
                # Cognito reports a failed post confirmation trigger to the caller.
                detail = error.detail if isinstance(error, InvocationError) else str(error)
                return _cognito_error(
                    request,
                    "UserLambdaValidationException",
                    f"PostConfirmation failed with error {detail}.",
                )
            if operation == "SignUp" and trigger.auto_confirm:
                # What Cognito answers when the pre sign-up trigger confirmed the user.
                content = json.dumps({**upstream.json(), "UserConfirmed": True}).encode()
        return Response(
            content,
            status_code=upstream.status_code,
            headers={"content-type": "application/x-amz-json-1.1", **_cognito_cors(request)},
        )

    async def _pre_signup(self, payload: Mapping[str, Any]) -> tuple[str | None, _SignUpTrigger]:
        attributes = {a.get("Name"): a.get("Value") for a in payload.get("UserAttributes") or []}
        event = events.cognito_event(
            "PreSignUp_SignUp",
            self.user_pool_id,
            self.user_pool_client_id,
            _trigger_username(str(payload.get("Username", ""))),
            attributes,
        )
        try:
            reply = await self.functions.call(COGNITO_TRIGGERS["pre_sign_up"], event)
        except InvocationError as error:  # Cognito reports trigger failures to the user
            return f"PreSignUp failed with error {error.detail}.", _SignUpTrigger()
        response = reply.get("response") or {}
        return None, _SignUpTrigger(
            auto_confirm=bool(response.get("autoConfirmUser")),
            auto_verify_email=bool(response.get("autoVerifyEmail")),
        )

    async def _after_signup(
        self, operation: str, payload: Mapping[str, Any], trigger: _SignUpTrigger
    ) -> None:
        username = str(payload.get("Username", ""))
        cognito = await asyncio.to_thread(self._admin_client)
        if operation == "SignUp":
            if not trigger.auto_confirm:
                return
            await asyncio.to_thread(
                cognito.admin_confirm_sign_up, UserPoolId=self.user_pool_id, Username=username
            )
            if trigger.auto_verify_email:
                # What Cognito does when the trigger answers autoVerifyEmail: the address is
                # verified, and so usable as a sign-in alias at once.
                await asyncio.to_thread(
                    cognito.admin_update_user_attributes,
                    UserPoolId=self.user_pool_id,
                    Username=username,
                    UserAttributes=[{"Name": "email_verified", "Value": "true"}],
                )
        user = await asyncio.to_thread(
            cognito.admin_get_user, UserPoolId=self.user_pool_id, Username=username
        )
        attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
        event = events.cognito_event(
            "PostConfirmation_ConfirmSignUp",
            self.user_pool_id,
            self.user_pool_client_id,
            user["Username"],
            attributes,
        )
        await self.functions.call(COGNITO_TRIGGERS["post_confirmation"], event)

    def _admin_client(self) -> Any:
        """The admin client, built once, off the event loop."""
        with self._admin_lock:
            if self._admin is None:
                import boto3

                self._admin = boto3.client(
                    "cognito-idp",
                    endpoint_url=self.endpoint,
                    region_name=events.REGION,
                    aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                )
            return self._admin


def _trigger_username(username: str) -> str:
    """The user name as Cognito hands it to triggers: lower-cased in a case-insensitive pool."""
    return (
        username if user_pool_spec(protected=False).case_sensitive_usernames else username.lower()
    )


@functools.cache
def _public_cognito_operations() -> frozenset[str]:
    """Cognito operations AWS serves without credentials (SignUp, InitiateAuth, ...), from
    botocore's own service model."""
    import botocore.session

    from dynamotalk.local.iam import served_without_credentials

    model = botocore.session.get_session().get_service_model("cognito-idp")
    return frozenset(
        name
        for name in model.operation_names
        if served_without_credentials(model.operation_model(name))
    )


def _cognito_cors(request: Request, preflight: bool = False) -> dict[str, str]:
    """Cognito's public API answers browsers from any origin (it has no per-origin CORS)."""
    if not request.headers.get("origin"):
        return {}
    headers = {"access-control-allow-origin": "*"}
    if preflight:
        headers.update(
            {
                "access-control-allow-methods": "POST, OPTIONS",
                "access-control-allow-headers": COGNITO_CORS_HEADERS,
                "access-control-max-age": "600",
            }
        )
    return headers


def _cognito_error(request: Request, kind: str, message: str) -> Response:
    return JSONResponse(
        {"__type": kind, "message": message},
        status_code=400,
        headers={"x-amzn-ErrorType": kind, **_cognito_cors(request)},
    )
