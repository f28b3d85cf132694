"""IAM, enforced in the local stack: each AWS call a handler makes is checked against the policy
document its function's role gets in the cloud (dynamotalk.permissions, the builder the Pulumi
program deploys), with IAM's evaluation rules, before the call leaves the process.

How it hooks in: importing this module appends three handlers to botocore's BUILTIN_HANDLERS,
which every new botocore session registers (boto3.client(...) and boto3.session.Session()
alike), so the clients lambdas/_wiring builds are covered without touching them. The handlers
do nothing until `enforce_iam(...)` is called, and they check only calls made inside an
invocation: the function is `dynamotalk.local.invocation.current_function`, which the gateway
sets around each handler call. Provisioning and the stack's own setup run outside any
invocation and are not checked.

Evaluation (AWS: "Policy evaluation logic", "IAM JSON policy elements: Resource/Action"):
an explicit Deny wins, else an applicable Allow is needed, else the call is implicitly denied.
`*` and `?` match in Action (case-insensitive) and Resource (case-sensitive, per ARN segment; a
`*` that ends a segment may run past colons). Where we do not evaluate something we are
stricter than AWS: an Allow carrying a Condition is not counted; a Deny carrying one is.

A denied call fails like AWS fails it: botocore raises ClientError (DynamoDB
AccessDeniedException 400, S3 AccessDenied 403, execute-api/Bedrock AccessDeniedException 403,
SQS AccessDenied 403) with the message "User: arn:aws:sts::<account>:assumed-role/<role>/<fn>
is not authorized to perform: <action> on resource: <arn> because no identity-based policy
allows the <action> action". Presigning is local signing in AWS (the URL fails later, when
used); here generating a presigned URL or POST without the permission raises at once, which is
stricter and fails closer to the cause.

The local stage's identity: account LOCAL_ACCOUNT (moto's default account), WebSocket API id
LOCAL_API_ID, role `dynamotalk-<stage>-<function>-role`, session named after the function.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any, Literal
from urllib.parse import urlparse

import attrs
import boto3
import botocore.handlers
import structlog
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from dynamotalk.local import events
from dynamotalk.local.invocation import current_function
from dynamotalk.permissions import (
    PERMISSIONS,
    PolicyDocument,
    StageArns,
    bedrock_model_arn,
    policy_document,
)
from dynamotalk.routes import function_name

LOCAL_ACCOUNT = events.ACCOUNT
"""The account of the local stage's ARNs (moto's default account)."""
LOCAL_API_ID = events.API_ID
"""The WebSocket API id of the local stage (10 characters, like API Gateway's ids)."""

Decision = Literal["allow", "implicit_deny", "explicit_deny"]

_log = structlog.get_logger("dynamotalk.iam")


# --- evaluation --------------------------------------------------------------------------------


@cache
def _pattern(pattern: str, resource: bool) -> re.Pattern[str]:
    parts: list[str] = []
    for index, char in enumerate(pattern):
        if char == "*":
            ends_segment = index + 1 == len(pattern) or pattern[index + 1] == ":"
            parts.append(".*" if ends_segment or not resource else "[^:]*")
        elif char == "?":
            parts.append("[^:]" if resource else ".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), 0 if resource else re.IGNORECASE)


def action_matches(pattern: str, action: str) -> bool:
    """IAM Action matching: prefix and name are case-insensitive, `*` and `?` wildcards."""
    return _pattern(pattern, False).fullmatch(action) is not None


def resource_matches(pattern: str, resource: str) -> bool:
    """IAM Resource matching: case-sensitive; wildcards stay in their colon-separated segment,
    except a `*` that ends a segment, which may run on past colons."""
    return _pattern(pattern, True).fullmatch(resource) is not None


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


def _applies(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    if "Action" in statement:
        on_action = any(action_matches(p, action) for p in _listed(statement["Action"]))
    elif "NotAction" in statement:
        on_action = not any(action_matches(p, action) for p in _listed(statement["NotAction"]))
    else:
        return False
    if "Resource" in statement:
        on_resource = any(resource_matches(p, resource) for p in _listed(statement["Resource"]))
    elif "NotResource" in statement:
        on_resource = not any(
            resource_matches(p, resource) for p in _listed(statement["NotResource"])
        )
    else:
        return False
    return on_action and on_resource


def evaluate(document: PolicyDocument | None, action: str, resource: str) -> Decision:
    """IAM's decision for one request under one identity-based policy document."""
    statements = (document or {}).get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    allowed = False
    for statement in statements:
        if not isinstance(statement, Mapping) or not _applies(statement, action, resource):
            continue
        effect = statement.get("Effect")
        if effect == "Deny":
            return "explicit_deny"  # a Deny's Condition is not evaluated: it always counts
        if effect == "Allow" and "Condition" not in statement:
            allowed = True
    return "allow" if allowed else "implicit_deny"


# --- the local stage ---------------------------------------------------------------------------


@attrs.frozen
class LocalAccount:
    """Where the local stage's ARNs live."""

    stage: str
    region: str
    account: str = LOCAL_ACCOUNT
    api_id: str = LOCAL_API_ID

    def function_name(self, module: str) -> str:
        return function_name(self.stage, module)

    def principal(self, module: str) -> str:
        """The assumed-role session ARN a function's calls are made as."""
        name = self.function_name(module)
        return f"arn:aws:sts::{self.account}:assumed-role/{name}-role/{name}"

    def table_arn(self, table: str) -> str:
        if table.startswith("arn:"):
            return table
        return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{table}"

    def log_group_arn(self, module: str) -> str:
        name = self.function_name(module)
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:/aws/lambda/{name}"

    def connection_arn(self, method: str, connection_id: str) -> str:
        return (
            f"arn:aws:execute-api:{self.region}:{self.account}:{self.api_id}/{self.stage}"
            f"/{method}/@connections/{connection_id}"
        )

    def queue_arn(self, name: str) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{name}"


@attrs.frozen
class StagePolicies:
    """Every function's policy document for one local stage, and that stage's identity."""

    account: LocalAccount
    documents: Mapping[str, PolicyDocument]

    def without(self, module: str, action: str) -> StagePolicies:
        """The same policies with one action taken out of one function's document."""
        document = json.loads(json.dumps(self.documents[module]))
        for statement in document["Statement"]:
            actions = [a for a in _listed(statement.get("Action")) if a != action]
            statement["Action"] = actions
        return attrs.evolve(self, documents={**self.documents, module: document})


def stage_policies(
    stage: str,
    region: str,
    table_name: str,
    bucket_name: str,
    *,
    bot_queue_name: str | None = None,
    bot_model_id: str | None = None,
    account: str = LOCAL_ACCOUNT,
    api_id: str = LOCAL_API_ID,
) -> StagePolicies:
    """The documents the Pulumi program would deploy for this stage, built on local ARNs.

    Without `bot_model_id` the bot worker gets no document (the local stack answers @bot
    in-process, not as the bot_worker function): any call made as bot_worker is then denied.
    """
    local = LocalAccount(stage=stage, region=region, account=account, api_id=api_id)
    arns = StageArns(
        region=region,
        table_arn=local.table_arn(table_name),
        bucket_arn=f"arn:aws:s3:::{bucket_name}",
        connections_arn=local.connection_arn("POST", "*"),
        bot_queue_arn=local.queue_arn(bot_queue_name or f"dynamotalk-{stage}-bot-jobs"),
        bot_model_id=bot_model_id,
    )
    documents = {
        module: policy_document(module, arns, local.log_group_arn(module))
        for module, needs in PERMISSIONS.items()
        if bot_model_id is not None or not needs.answers_bot_jobs
    }
    return StagePolicies(account=local, documents=documents)


# --- operations -> IAM requests ----------------------------------------------------------------


@attrs.frozen
class Request:
    """One IAM authorisation request: an action on a resource."""

    action: str
    resource: str


_TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
_S3_OBJECT_ACTIONS = {
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "DeleteObject": "s3:DeleteObject",
}
_S3_BUCKET_ACTIONS = {
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
}
_SQS_ACTIONS = {
    "SendMessageBatch": "sqs:SendMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
_BEDROCK_ACTIONS = {
    "Converse": "bedrock:InvokeModel",
    "InvokeModel": "bedrock:InvokeModel",
    "ConverseStream": "bedrock:InvokeModelWithResponseStream",
    "InvokeModelWithResponseStream": "bedrock:InvokeModelWithResponseStream",
}
_MANAGEMENT_METHODS = {
    "PostToConnection": "POST",
    "GetConnection": "GET",
    "DeleteConnection": "DELETE",
}


def _dynamodb(operation: str, params: Mapping[str, Any], local: LocalAccount) -> list[Request]:
    if operation in ("BatchGetItem", "BatchWriteItem"):
        tables = params.get("RequestItems") or {}
        return [Request(f"dynamodb:{operation}", local.table_arn(str(t))) for t in tables]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        requests = []
        for item in params.get("TransactItems") or []:
            for kind, body in item.items():
                action = _TRANSACT_ITEM_ACTIONS.get(kind, f"dynamodb:{kind}")
                requests.append(Request(action, local.table_arn(str(body.get("TableName")))))
        return requests
    table = params.get("TableName")
    if table is None:
        return [Request(f"dynamodb:{operation}", "*")]
    resource = local.table_arn(str(table))
    index = params.get("IndexName")
    if index:
        resource = f"{resource}/index/{index}"
    return [Request(f"dynamodb:{operation}", resource)]


def _s3(operation: str, params: Mapping[str, Any]) -> list[Request]:
    bucket = f"arn:aws:s3:::{params.get('Bucket', '')}"
    if operation in _S3_BUCKET_ACTIONS:
        return [Request(_S3_BUCKET_ACTIONS[operation], bucket)]
    if operation == "DeleteObjects":
        objects = (params.get("Delete") or {}).get("Objects") or []
        return [Request("s3:DeleteObject", f"{bucket}/{o.get('Key', '')}") for o in objects]
    if operation == "CopyObject":
        source = params.get("CopySource")
        if isinstance(source, Mapping):
            source = f"{source.get('Bucket', '')}/{source.get('Key', '')}"
        source_arn = f"arn:aws:s3:::{str(source or '').lstrip('/').split('?')[0]}"
        return [
            Request("s3:GetObject", source_arn),
            Request("s3:PutObject", f"{bucket}/{params.get('Key', '')}"),
        ]
    if "Key" in params:
        action = _S3_OBJECT_ACTIONS.get(operation, f"s3:{operation}")
        return [Request(action, f"{bucket}/{params['Key']}")]
    return [Request(f"s3:{operation}", bucket)]


def _sqs_queue_arn(params: Mapping[str, Any], local: LocalAccount) -> str:
    url = params.get("QueueUrl")
    if not url:
        return local.queue_arn(str(params.get("QueueName", "")))
    parsed = urlparse(str(url))
    path = [p for p in parsed.path.split("/") if p]
    host = parsed.hostname or ""
    region = host.split(".")[1] if host.startswith("sqs.") and host.count(".") >= 2 else None
    account = path[0] if len(path) == 2 else local.account
    name = path[-1] if path else ""
    return f"arn:aws:sqs:{region or local.region}:{account}:{name}"


def requests_for(
    prefix: str, operation: str, params: Mapping[str, Any], local: LocalAccount
) -> list[Request]:
    """The IAM requests one API call is authorised by (`prefix` is the signing name)."""
    if prefix == "dynamodb":
        return _dynamodb(operation, params, local)
    if prefix == "s3":
        return _s3(operation, params)
    if prefix == "execute-api" and operation in _MANAGEMENT_METHODS:
        method = _MANAGEMENT_METHODS[operation]
        resource = local.connection_arn(method, str(params.get("ConnectionId", "")))
        return [Request("execute-api:ManageConnections", resource)]
    if prefix == "sqs":
        action = _SQS_ACTIONS.get(operation, f"sqs:{operation}")
        return [Request(action, _sqs_queue_arn(params, local))]
    if prefix == "bedrock" and operation in _BEDROCK_ACTIONS:
        resource = bedrock_model_arn(local.region, str(params.get("modelId", "")))
        return [Request(_BEDROCK_ACTIONS[operation], resource)]
    return [Request(f"{prefix}:{operation}", "*")]


# --- denial, shaped like AWS's -----------------------------------------------------------------


@attrs.frozen
class Denial:
    """One refused call: who, what, on which resource, and why."""

    function: str
    principal: str
    action: str
    resource: str
    decision: Decision
    service: str

    @property
    def message(self) -> str:
        reason = (
            "with an explicit deny in an identity-based policy"
            if self.decision == "explicit_deny"
            else f"because no identity-based policy allows the {self.action} action"
        )
        return (
            f"User: {self.principal} is not authorized to perform: {self.action} "
            f"on resource: {self.resource} {reason}"
        )

    @property
    def code(self) -> str:
        return "AccessDenied" if self.service in ("s3", "sqs") else "AccessDeniedException"

    @property
    def status(self) -> int:
        return 400 if self.service == "dynamodb" else 403

    def body(self) -> bytes:
        if self.service == "s3":
            return (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                f"<Message>{_xml_escape(self.message)}</Message></Error>"
            ).encode()
        return json.dumps({"__type": self.code, "message": self.message}).encode()

    def parsed(self) -> dict[str, Any]:
        return {
            "Error": {"Code": self.code, "Message": self.message},
            "ResponseMetadata": {
                "HTTPStatusCode": self.status,
                "HTTPHeaders": {"x-amzn-errortype": self.code},
                "RetryAttempts": 0,
            },
        }

    def response(self, url: str) -> AWSResponse:
        headers: Any = {"x-amzn-ErrorType": self.code}
        return AWSResponse(url, self.status, headers, _Raw(self.body()))

    def error(self, operation: str) -> ClientError:
        return ClientError(self.parsed(), operation)  # type: ignore[arg-type]


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Raw:
    """The raw body of a response that never went on the wire."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


# --- enforcement -------------------------------------------------------------------------------

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


def stop_enforcing() -> None:
    global _enforced
    _enforced = None


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
