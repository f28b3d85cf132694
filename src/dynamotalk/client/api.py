"""The HTTP API as the signed-in user: the one place a client calls it, refreshing the ID token
on a 401 and retrying once (the terminal client, the MCP server and the e2e tests' users)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator
from typing import Any

import attrs
import httpx

from dynamotalk.client.config import ChatClientError
from dynamotalk.client.session import Session
from dynamotalk.domain.limits import Limits

TIMEOUT_S = 15.0
PAGE_MAX = Limits().page_size_max
"""The most rooms or messages one page (or one sync) may ask for."""


class ApiError(ChatClientError):
    """A call the API refused: its status, and the error code and message of its body.

    `code` is None when the body carries no `error` (a gateway's own reply, such as API
    Gateway's `{"message": "Unauthorized"}`); the message then comes from `message`."""

    def __init__(self, status: int, code: str | None, message: str | None) -> None:
        super().__init__(f"{status if code is None else code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class TokenAuth(httpx.Auth):
    """The session's ID token as a bearer; on a 401, refresh the token and retry once.

    `retry=False` sends the token as it is and hands a 401 back (the e2e tests' users)."""

    def __init__(self, session: Session, retry: bool = True) -> None:
        self.session = session
        self.retry = retry

    def _signed(self, request: httpx.Request) -> httpx.Request:
        request.headers["authorization"] = f"Bearer {self.session.id_token}"
        return request

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield self._signed(request)
        if response.status_code == 401 and self.retry:
            self.session.refresh()
            yield self._signed(request)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        response = yield self._signed(request)
        if response.status_code == 401 and self.retry:
            await asyncio.to_thread(self.session.refresh)  # Cognito's SDK blocks
            yield self._signed(request)


def body_of(reply: httpx.Response) -> Any:
    """The reply's JSON ({} when empty); a status of 400 or more raises ApiError."""
    data = reply.json() if reply.content else {}
    if reply.status_code >= 400:
        error = data.get("error")
        if error:
            raise ApiError(reply.status_code, error["code"], error["message"])
        raise ApiError(reply.status_code, None, data.get("message"))
    return data


@attrs.define
class Api:
    """Calls as `session`'s user over one connection pool; close it with `aclose()`."""

    session: Session
    http: httpx.AsyncClient = attrs.field(
        default=attrs.Factory(
            lambda self: httpx.AsyncClient(
                base_url=self.session.config["httpUrl"],
                timeout=TIMEOUT_S,
                auth=TokenAuth(self.session),
            ),
            takes_self=True,
        )
    )

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """The reply's JSON; parameters that are None are left out of the query."""
        query = {name: value for name, value in params.items() if value is not None}
        reply = await self.http.request(method, path, json=body, params=query or None)
        return body_of(reply)

    async def aclose(self) -> None:
        await self.http.aclose()
