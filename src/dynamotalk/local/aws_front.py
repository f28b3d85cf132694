"""The WSGI layer in front of moto's server: refuses what AWS refuses and moto lets through
(aws_cognito.py, aws_s3.py, aws_sessions.py) and keeps the state each answer changed
(aws_state.py) before the answer goes out.

Requests are handled one at a time: moto's models are not thread-safe, and a snapshot must
not see half a request. Only the journal's fsync happens outside that lock (each request still
waits for it before its answer), so one fsync serves the requests that wrote meanwhile.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from dynamotalk.local import aws_cognito, aws_cognito_users, aws_s3, aws_s3_presigned, aws_sessions
from dynamotalk.local.aws_state import SavedState
from dynamotalk.local.emulators import DUMMY_CREDENTIALS

COGNITO_TARGET = "AWSCognitoIdentityProviderService."
JWKS_PATH = re.compile(r"^/(?P<pool>[\w-]+_[0-9A-Za-z]+)/\.well-known/jwks\.json$")
KNOWN_KEYS = {DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"]: DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}
"""The access keys LocalAws knows (secret by key id): only the loopback dummy pair."""

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@attrs.frozen
class _Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def ok(self) -> bool:
        return self.status.startswith("2")


def _status_line(code: int) -> str:
    from http import HTTPStatus

    return f"{code} {HTTPStatus(code).phrase}"


@attrs.define
class StrictAws:
    """The WSGI layer in front of moto's app."""

    moto: WsgiApp
    state: SavedState | None = None
    secrets: Mapping[str, str] = KNOWN_KEYS
    now: Callable[[], dt.datetime] = attrs.field(default=lambda: dt.datetime.now(dt.UTC))
    cognito: aws_cognito.CognitoCorrections = attrs.Factory(aws_cognito.CognitoCorrections)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        with self._lock:
            answer = self._handle(environ, body)
        if self.state is not None:
            self.state.durable()  # what this request changed is on disk before it is answered
        start_response(answer.status, answer.headers)
        return [answer.body]

    def _handle(self, environ: dict[str, Any], body: bytes) -> _Answer:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(COGNITO_TARGET):
            return self._cognito(environ, target[len(COGNITO_TARGET) :], body)
        jwks = JWKS_PATH.match(path)
        if method == "GET" and jwks:
            reply = aws_cognito_users.jwks(jwks["pool"])
            return _Answer(
                _status_line(reply.status),
                [("Content-Type", "application/json")],
                reply.encoded(),
            )
        content_type = environ.get("CONTENT_TYPE", "")
        if aws_s3_presigned.is_presigned_get(method, environ.get("QUERY_STRING", "")):
            refused_get = self._check_presigned(environ, method, path)
            if refused_get is not None:
                return refused_get
        tags: dict[str, str] = {}
        if aws_s3.is_form_upload(method, path, environ.get("QUERY_STRING", ""), content_type):
            refused = self._check_upload(environ, path, body, content_type)
            if refused is not None:
                return refused
            tags = self._form_tags(body, content_type)
        answer = self._moto(environ, body)
        if tags and answer.ok:
            _tag_uploaded(path.strip("/"), body, content_type, tags)
        changed = method in ("PUT", "POST", "DELETE") and answer.status.startswith("2")
        if self.state is not None and changed:
            self.state.save_s3()
        return answer

    def _moto(self, environ: dict[str, Any], body: bytes) -> _Answer:
        environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        seen: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            seen["status"], seen["headers"] = status, headers

        chunks = self.moto(environ, start_response)
        try:
            data = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return _Answer(seen["status"], list(seen["headers"]), data)

    # --- Cognito ------------------------------------------------------------------------------

    def _cognito(self, environ: dict[str, Any], operation: str, body: bytes) -> _Answer:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return _cognito_answer(
                aws_cognito_users.CognitoReply.error(
                    "SerializationException", "body is not a JSON object"
                )
            )
        reply = self.cognito.before(operation, payload) or aws_sessions.refused(operation, payload)
        if reply is not None:
            # Some answers are ours alone (VerifyUserAttribute): keep what they changed.
            if self.state is not None and aws_cognito.mutates(operation) and reply.status == 200:
                self.state.save_cognito()
            return _cognito_answer(reply)
        marks = self.state.cognito_marks() if self.state is not None else {}
        revoking = aws_sessions.before(operation, payload)
        answer = self._moto(environ, json.dumps(payload).encode())
        if answer.status.startswith("200"):
            try:
                result = json.loads(answer.body or b"{}")
            except ValueError:
                result = {}
            self.cognito.after(operation, payload, result if isinstance(result, dict) else {})
            if isinstance(result, dict) and aws_sessions.shorten_tokens(operation, payload, result):
                body = json.dumps(result).encode()
                kept = [(k, v) for k, v in answer.headers if k.lower() != "content-length"]
                headers = [*kept, ("Content-Length", str(len(body)))]
                answer = attrs.evolve(answer, headers=headers, body=body)
            aws_sessions.after(revoking)
        # A refused request changed nothing worth keeping (a failed sign-in, say).
        if self.state is not None and aws_cognito.mutates(operation) and answer.ok:
            self.state.save_cognito_write(operation, payload, marks)
        return answer

    # --- S3 -----------------------------------------------------------------------------------

    def _check_upload(
        self, environ: dict[str, Any], path: str, body: bytes, content_type: str
    ) -> _Answer | None:
        bucket = path.strip("/")
        try:
            fields, content = aws_s3.parse_form(body, content_type)
        except ValueError:
            refusal: aws_s3.S3Refusal | None = aws_s3.S3Refusal(
                400,
                "MalformedPOSTRequest",
                "The body of your POST request is not well-formed multipart/form-data.",
            )
        else:
            refusal = aws_s3.check_form_upload(bucket, fields, content, self.secrets, self.now)
            tags = aws_s3.form_tags(fields)
            if refusal is None and isinstance(tags, aws_s3.S3Refusal):
                refusal = tags
        if refusal is None:
            return None
        headers = [("Content-Type", "application/xml"), *_cors_headers(environ, bucket)]
        return _Answer(_status_line(refusal.status), headers, refusal.body())

    def _check_presigned(self, environ: dict[str, Any], method: str, path: str) -> _Answer | None:
        """A presigned GET (export links, attachment downloads): signature and expiry, as S3."""
        raw_path = str(environ.get("RAW_URI") or path).split("?", 1)[0]
        headers = {"host": str(environ.get("HTTP_HOST", ""))}
        refusal = aws_s3_presigned.check_presigned_get(
            method, raw_path, environ.get("QUERY_STRING", ""), headers, self.secrets, self.now
        )
        if refusal is None:
            return None
        headers_out = [("Content-Type", "application/xml")]
        headers_out += _cors_headers(environ, path.strip("/").split("/", 1)[0])
        return _Answer(_status_line(refusal.status), headers_out, refusal.body())

    @staticmethod
    def _form_tags(body: bytes, content_type: str) -> dict[str, str]:
        """The tags of a form upload _check_upload accepted (so they are well-formed)."""
        fields, _ = aws_s3.parse_form(body, content_type)
        tags = aws_s3.form_tags(fields)
        return tags if isinstance(tags, dict) else {}


def _tag_uploaded(bucket_name: str, body: bytes, content_type: str, tags: dict[str, str]) -> None:
    """Tag the object a form upload just stored, as S3 does with the form's `tagging`."""
    from moto.s3.models import s3_backends

    fields, _ = aws_s3.parse_form(body, content_type)
    for regions in list(s3_backends.values()):
        for backend in list(regions.values()):
            bucket = backend.buckets.get(bucket_name)
            key = bucket.keys.get(fields.get("key", "")) if bucket is not None else None
            if key is not None:
                backend.put_object_tagging(key, tags)
                return


def _cognito_answer(reply: aws_cognito_users.CognitoReply) -> _Answer:
    headers = [("Content-Type", "application/x-amz-json-1.1")]
    if reply.status >= 400:
        headers.append(("x-amzn-ErrorType", str(reply.body.get("__type", ""))))
    return _Answer(_status_line(reply.status), headers, reply.encoded())


def _cors_headers(environ: Mapping[str, Any], bucket_name: str) -> list[tuple[str, str]]:
    """S3 sends CORS headers on errors too, when the bucket's rules allow the origin."""
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return []
    from moto.s3.models import s3_backends

    for regions in list(s3_backends.values()):
        for backend in list(regions.values()):
            bucket = backend.buckets.get(bucket_name)
            for rule in getattr(bucket, "cors", None) or []:
                origins = rule.allowed_origins or []
                if "POST" in (rule.allowed_methods or []) and ("*" in origins or origin in origins):
                    return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
    return []
