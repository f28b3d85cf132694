"""Which IAM requests (action on resource) one AWS API call is authorised by."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

import attrs

from dynamotalk.local.iam.stage import LocalAccount
from dynamotalk.permissions import bedrock_model_arn


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
    if prefix == "ssm" and "Name" in params:
        return [Request(f"ssm:{operation}", local.parameter_arn(str(params["Name"])))]
    if prefix == "cognito-idp" and "UserPoolId" in params:
        resource = local.user_pool_arn(str(params["UserPoolId"]))
        return [Request(f"cognito-idp:{operation}", resource)]
    if prefix == "bedrock" and operation in _BEDROCK_ACTIONS:
        resource = bedrock_model_arn(local.region, str(params.get("modelId", "")))
        return [Request(_BEDROCK_ACTIONS[operation], resource)]
    return [Request(f"{prefix}:{operation}", "*")]
