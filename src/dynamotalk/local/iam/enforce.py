"""The checks hooked into botocore: every call a handler makes, decided before it leaves.

Importing this module appends three handlers to botocore's BUILTIN_HANDLERS, which every new
botocore session registers (boto3.client(...) and boto3.session.Session() alike), so the
clients the composition root builds are covered without touching them. The handlers do
nothing until `enforce_iam(...)` is called, and they check only calls made inside an
invocation: the function is `dynamotalk.local.invocation.current_function`, which the gateway
sets around each handler call. Provisioning and the stack's own setup run outside any
invocation and are not checked.

Presigning is local signing in AWS (the URL fails later, when used); here generating a
presigned URL or POST without the permission raises at once, which is stricter and fails
closer to the cause.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.handlers
import structlog
from botocore.awsrequest import AWSResponse

from dynamotalk.local.iam.denial import Denial
from dynamotalk.local.iam.evaluation import evaluate
from dynamotalk.local.iam.requests import Request, requests_for
from dynamotalk.local.iam.stage import StagePolicies
from dynamotalk.local.invocation import current_function

_log = structlog.get_logger("dynamotalk.iam")

_enforced: StagePolicies | None = None
denials: deque[Denial] = deque(maxlen=200)
"""The most recent refusals, newest last (for tests and the stack's diagnostics)."""

_CHECKED = "dynamotalk_iam_checked"
_DENIED = "dynamotalk_iam_denied"


def enforce_iam(policies: StagePolicies) -> None:
    """From now on, every call made inside an invocation is checked against its function's
    document. Call it before the handlers build their clients (the stack does, at startup)."""
    global _enforced
    install()
    _enforced = policies


@contextmanager
def enforcing(policies: StagePolicies) -> Iterator[StagePolicies]:
    """enforce_iam for the duration of a block, then back to what was enforced before."""
    global _enforced
    install()
    saved, _enforced = _enforced, policies
    try:
        yield policies
    finally:
        _enforced = saved


def check(module: str, requests: Iterable[Request], service: str) -> Denial | None:
    """The first request of `requests` that `module`'s document refuses, if any."""
    policies = _enforced
    if policies is None:
        return None
    document = policies.documents.get(module)
    for request in requests:
        decision = evaluate(document, request.action, request.resource)
        if decision != "allow":
            denial = Denial(
                function=module,
                principal=policies.account.principal(module),
                action=request.action,
                resource=request.resource,
                decision=decision,
                service=service,
            )
            denials.append(denial)
            _log.warning(
                "iam_denied",
                function=module,
                action=request.action,
                resource=request.resource,
                decision=decision,
            )
            return denial
    return None


def served_without_credentials(model: Any) -> bool:
    """Operations AWS serves without credentials (Cognito's SignUp, InitiateAuth, ...)."""
    return bool(model.auth_type == "none" or (model.auth or []) == ["smithy.api#noAuth"])


def _on_parameters(params: Any, model: Any, context: Any, **_: Any) -> None:
    """before-parameter-build: decide, and either stash the denial or (presigning) raise."""
    policies = _enforced
    module = current_function.get()
    if policies is None or module is None or context is None or context.get(_CHECKED):
        return
    context[_CHECKED] = True
    presign = bool(context.get("is_presign_request"))
    if presign and model.name == "CreateBucket":
        return  # generate_presigned_post: checked in before-sign, where the key is known
    if served_without_credentials(model):
        return
    prefix = model.service_model.signing_name or model.service_model.endpoint_prefix
    requests = requests_for(prefix, model.name, params or {}, policies.account)
    denial = check(module, requests, prefix)
    if denial is None:
        return
    if presign:
        raise denial.error(model.name)
    context[_DENIED] = denial


def _on_call(model: Any, params: Any, context: Any, **_: Any) -> tuple[AWSResponse, Any] | None:
    """before-call: a denied call is answered here, as AWS would answer it."""
    denial = (context or {}).get(_DENIED)
    if not isinstance(denial, Denial):
        return None
    url = str((params or {}).get("url", "http://iam.local/"))
    return denial.response(url), denial.parsed()


def _on_presigned_post(request: Any, **_: Any) -> None:
    """before-sign.s3.PutObject of generate_presigned_post: s3:PutObject on the form's key, and
    s3:PutObjectTagging too when the form tags the upload (AWS: tagging an object as it is
    written needs both)."""
    fields = request.context.get("s3-presign-post-fields")
    policy = request.context.get("s3-presign-post-policy")
    module = current_function.get()
    if _enforced is None or module is None or fields is None or policy is None:
        return
    conditions = [c for c in policy.get("conditions", []) if isinstance(c, dict)]
    bucket = next((c["bucket"] for c in conditions if "bucket" in c), "")
    key = str(fields.get("key", ""))
    requests = [Request("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}")]
    if "tagging" in fields:
        requests.append(Request("s3:PutObjectTagging", f"arn:aws:s3:::{bucket}/{key}"))
    denial = check(module, requests, "s3")
    if denial is not None:
        raise denial.error("PutObject")


_HANDLERS: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("before-parameter-build", _on_parameters),
    ("before-call", _on_call),
    ("before-sign.s3.PutObject", _on_presigned_post),
)


def install() -> None:
    """Register the checks with every botocore session created from now on, and with boto3's
    default session if it exists already (boto3.client(...) uses it). Idempotent; a client
    keeps the handlers its session had when it was created."""
    for spec in _HANDLERS:
        if spec not in botocore.handlers.BUILTIN_HANDLERS:
            botocore.handlers.BUILTIN_HANDLERS.append(spec)
    default = boto3.DEFAULT_SESSION
    if default is not None:
        for event, handler in _HANDLERS:
            default.events.register(event, handler, unique_id=f"dynamotalk-iam-{event}")


install()
