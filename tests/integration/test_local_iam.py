"""The local stack's IAM check (dynamotalk.local.iam): IAM's evaluation rules, each function's
real calls judged against the document the shared builder makes for it, and the way a denial
reaches the handler through a real botocore client (no request leaves the process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from dynamotalk.local import iam
from dynamotalk.local.invocation import current_function
from dynamotalk.permissions import PERMISSIONS, PolicyDocument
from dynamotalk.search_function import SEARCH_INDEXER
from dynamotalk.tables import GSI1
from dynamotalk.workers import FANOUT, FANOUT_PAGES

STAGE, REGION = "local", "us-east-1"
TABLE, BUCKET = "dynamotalk-local-chat", "dynamotalk-local-attachments"
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{iam.LOCAL_ACCOUNT}/dynamotalk-local-bot-jobs"
CLOSED = "http://127.0.0.1:9"
"""Nothing listens here: a call that gets past the check fails with EndpointConnectionError."""

Call = tuple[str, str, dict[str, Any]]
"""(IAM prefix, operation, API parameters), as the adapters make them."""


def get(key: str = "ROOM#r") -> Call:
    return ("dynamodb", "GetItem", {"TableName": TABLE, "Key": {"pk": {"S": key}}})


def query(index: str | None = None) -> Call:
    params: dict[str, Any] = {"TableName": TABLE, "KeyConditionExpression": "pk = :p"}
    if index:
        params["IndexName"] = index
    return ("dynamodb", "Query", params)


def op(operation: str) -> Call:
    return ("dynamodb", operation, {"TableName": TABLE, "Key": {"pk": {"S": "x"}}})


def batch(operation: str) -> Call:
    return ("dynamodb", operation, {"RequestItems": {TABLE: []}})


def transact(*kinds: str) -> Call:
    items = [{kind: {"TableName": TABLE}} for kind in kinds]
    return ("dynamodb", "TransactWriteItems", {"TransactItems": items})


def s3(operation: str, key: str) -> Call:
    return ("s3", operation, {"Bucket": BUCKET, "Key": key})


POST = ("execute-api", "PostToConnection", {"ConnectionId": "abc=", "Data": b"{}"})
CLOSE = ("execute-api", "DeleteConnection", {"ConnectionId": "abc="})
SEND_JOB = ("sqs", "SendMessage", {"QueueUrl": QUEUE_URL, "MessageBody": "{}"})

# What each function really calls (the adapters behind its handler), and calls it must not make.
ALLOWED: dict[str, list[Call]] = {
    "ws_authorizer": [],
    "ws_connect": [
        get(),
        op("PutItem"),
        query(GSI1.name),
        batch("BatchWriteItem"),
        POST,
    ],
    "ws_disconnect": [query(), query(GSI1.name), op("UpdateItem"), batch("BatchWriteItem"), POST],
    "ws_default": [
        get(),
        query(),
        transact("Put"),
        op("PutItem"),
        op("UpdateItem"),
        batch("BatchWriteItem"),
        batch("BatchGetItem"),  # subscribe: its rooms and the caller's memberships
        s3("HeadObject", "rooms/r/u/01J/cat.png"),
        POST,
        SEND_JOB,
        transact("Update", "Put"),  # reauth moves the session (sessions.py)
        CLOSE,  # a frame on a socket whose session ended closes it
        transact("Delete", "Update", "Put"),  # deleting a pinned message unpins it
    ],
    "http_api": [
        get(),
        query(),
        query(GSI1.name),
        transact("Put"),
        transact("Delete", "Put"),  # accepting an invite
        op("UpdateItem"),
        op("DeleteItem"),
        batch("BatchGetItem"),
        batch("BatchWriteItem"),
        s3("HeadObject", "avatars/u/01J/me.png"),
        s3("GetObject", "rooms/r/u/01J/cat.png"),
        POST,
        CLOSE,  # a ban closes the sockets that followed only that room
    ],
    "cognito_pre_signup": [],
    # The username claim is a conditional PutItem (a batch write cannot carry a condition).
    "cognito_post_confirmation": [get("USER#u"), op("PutItem")],
    "session_sweeper": [
        query(),  # the due buckets, the connection's rows
        get(),
        op("DeleteItem"),
        op("UpdateItem"),
        batch("BatchWriteItem"),
        query(GSI1.name),
        POST,
        CLOSE,
    ],
    "session_revoked": [
        get(),
        query(GSI1.name),
        query(),
        op("UpdateItem"),
        batch("BatchWriteItem"),
        POST,
        CLOSE,
    ],
    "bot_worker": [
        get(),
        query(),
        transact("Put"),
        op("UpdateItem"),
        batch("BatchGetItem"),
        batch("BatchWriteItem"),
        POST,
        ("sqs", "ReceiveMessage", {"QueueUrl": QUEUE_URL}),
        ("sqs", "DeleteMessage", {"QueueUrl": QUEUE_URL, "ReceiptHandle": "h"}),
        ("bedrock", "Converse", {"modelId": MODEL, "messages": []}),
    ],
}
DENIED: dict[str, list[Call]] = {
    "ws_authorizer": [get(), POST, s3("GetObject", "rooms/x")],
    "ws_connect": [op("DeleteItem"), op("UpdateItem"), transact("Put", "Delete"), SEND_JOB],
    "ws_disconnect": [op("PutItem"), transact("Put"), get(), s3("GetObject", "rooms/x")],
    "ws_default": [
        query(GSI1.name),  # history and sync query the table, never the index
        transact("Put", "ConditionCheck"),
        s3("HeadObject", "avatars/u/01J/me.png"),
        s3("PutObject", "rooms/r/u/01J/cat.png"),
    ],
    "http_api": [
        s3("DeleteObject", "rooms/r/u/01J/cat.png"),
        s3("GetObject", "private/secret.txt"),
        ("dynamodb", "Scan", {"TableName": TABLE}),
        ("dynamodb", "GetItem", {"TableName": "another-table"}),
        SEND_JOB,
    ],
    "session_sweeper": [op("PutItem"), transact("Put"), s3("GetObject", "rooms/x"), SEND_JOB],
    "session_revoked": [op("PutItem"), op("DeleteItem"), batch("BatchGetItem"), SEND_JOB],
    "cognito_pre_signup": [get(), op("PutItem")],
    "cognito_post_confirmation": [batch("BatchWriteItem"), op("DeleteItem"), query(), POST],
    "bot_worker": [
        ("bedrock", "Converse", {"modelId": "anthropic.claude-3-opus-20240229-v1:0"}),
        SEND_JOB,
        op("DeleteItem"),
        query(GSI1.name),
    ],
}


@pytest.fixture(scope="module")
def policies() -> iam.StagePolicies:
    return iam.stage_policies(STAGE, REGION, TABLE, BUCKET, bot_model_id=MODEL)


def requests(call: Call, local: iam.LocalAccount) -> list[iam.Request]:
    prefix, operation, params = call
    return iam.requests_for(prefix, operation, params, local)


def decisions(policies: iam.StagePolicies, module: str, call: Call) -> list[iam.Decision]:
    document = policies.documents[module]
    found = requests(call, policies.account)
    assert found
    return [iam.evaluate(document, r.action, r.resource) for r in found]


def test_every_function_has_a_document_and_a_list_of_real_calls(
    policies: iam.StagePolicies,
) -> None:
    # The delivery functions' calls are listed with their ARNs in tests/infra/test_delivery_iam.py,
    # push_sender's in tests/infra/test_push_iam.py.
    delivery = {FANOUT, FANOUT_PAGES, "push_sender", SEARCH_INDEXER}  # test_search_iam.py too
    delivery.add("data_export")  # tests/infra/test_export.py

    delivery.add("account_erasure")  # tests/infra/test_erasure.py (issue 18)
    assert set(policies.documents) == set(PERMISSIONS) == set(ALLOWED) | delivery
    assert set(ALLOWED) == set(DENIED)


@pytest.mark.parametrize(
    ("module", "call"), [(m, c) for m, calls in ALLOWED.items() for c in calls]
)
def test_the_calls_a_function_makes_are_allowed(
    policies: iam.StagePolicies, module: str, call: Call
) -> None:
    assert set(decisions(policies, module, call)) == {"allow"}


@pytest.mark.parametrize(("module", "call"), [(m, c) for m, calls in DENIED.items() for c in calls])
def test_the_calls_a_function_does_not_need_are_denied(
    policies: iam.StagePolicies, module: str, call: Call
) -> None:
    assert "implicit_deny" in decisions(policies, module, call)


def test_without_a_model_the_local_stage_has_no_bot_worker_and_denies_its_calls() -> None:
    local = iam.stage_policies(STAGE, REGION, TABLE, BUCKET)
    assert "bot_worker" not in local.documents
    assert iam.evaluate(local.documents.get("bot_worker"), "dynamodb:GetItem", "*") == (
        "implicit_deny"
    )


# --- IAM's evaluation rules -----------------------------------------------------------------

TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{iam.LOCAL_ACCOUNT}:table/{TABLE}"


def doc(*statements: dict[str, Any]) -> PolicyDocument:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("dynamodb:PutItem", "dynamodb:PutItem", True),
        ("DynamoDB:putitem", "dynamodb:PutItem", True),  # prefix and name: case-insensitive
        ("dynamodb:*", "dynamodb:PutItem", True),
        ("dynamodb:Get*", "dynamodb:GetItem", True),
        ("dynamodb:Get*", "dynamodb:PutItem", False),
        ("dynamodb:?etItem", "dynamodb:GetItem", True),
        ("*", "s3:GetObject", True),
        ("s3:GetObject", "s3:GetObjectAcl", False),
        ("dynamodb:PutItem", "dynamodb:UpdateItem", False),
    ],
)
def test_action_matching(pattern: str, action: str, matches: bool) -> None:
    assert iam.action_matches(pattern, action) is matches


@pytest.mark.parametrize(
    ("pattern", "resource", "matches"),
    [
        (TABLE_ARN, TABLE_ARN, True),
        (TABLE_ARN, TABLE_ARN + "/index/GSI1", False),  # the table does not cover its indexes
        (TABLE_ARN + "/index/*", TABLE_ARN + "/index/GSI1", True),
        (TABLE_ARN.replace("chat", "Chat"), TABLE_ARN, False),  # resources: case-sensitive
        (f"arn:aws:dynamodb:*:*:table/{TABLE}", TABLE_ARN, True),
        ("arn:aws:s3:::bucket/rooms/*", "arn:aws:s3:::bucket/rooms/r/u/f.png", True),
        ("arn:aws:s3:::bucket/rooms/*", "arn:aws:s3:::bucket/avatars/u/f.png", False),
        ("arn:aws:s3:::b?cket/x", "arn:aws:s3:::bucket/x", True),
        ("arn:aws:s3:::b?cket/x", "arn:aws:s3:::bu:ket/x", False),
        # inside a segment a `*` stays in it; ending a segment it may run on past colons
        ("arn:aws:sqs:us-*-1:123456789012:q", "arn:aws:sqs:us-east-1:123456789012:q", True),
        ("arn:aws:sqs:us-*-1:123456789012:q", "arn:aws:sqs:us-east:x-1:123456789012:q", False),
        ("arn:aws:logs:r:a:log-group:/f:*", "arn:aws:logs:r:a:log-group:/f:s:t", True),
        ("*", "arn:aws:anything", True),
    ],
)
def test_resource_matching(pattern: str, resource: str, matches: bool) -> None:
    assert iam.resource_matches(pattern, resource) is matches


def test_nothing_allowed_is_an_implicit_deny() -> None:
    assert iam.evaluate(doc(), "dynamodb:GetItem", TABLE_ARN) == "implicit_deny"
    assert iam.evaluate(None, "dynamodb:GetItem", TABLE_ARN) == "implicit_deny"


def test_an_explicit_deny_wins_over_any_allow() -> None:
    document = doc(
        allow("dynamodb:*", "*"),
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE_ARN},
    )
    assert iam.evaluate(document, "dynamodb:GetItem", TABLE_ARN) == "allow"
    assert iam.evaluate(document, "dynamodb:DeleteItem", TABLE_ARN) == "explicit_deny"


def test_single_statement_and_single_strings_are_read_as_lists() -> None:
    document = {"Version": "2012-10-17", "Statement": allow("dynamodb:GetItem", TABLE_ARN)}
    assert iam.evaluate(document, "dynamodb:GetItem", TABLE_ARN) == "allow"


def test_not_action_and_not_resource() -> None:
    document = doc(
        {"Effect": "Allow", "NotAction": "dynamodb:DeleteItem", "Resource": TABLE_ARN},
        {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/secret/*"},
    )
    assert iam.evaluate(document, "dynamodb:PutItem", TABLE_ARN) == "allow"
    assert iam.evaluate(document, "dynamodb:DeleteItem", TABLE_ARN) == "implicit_deny"
    assert iam.evaluate(document, "s3:GetObject", "arn:aws:s3:::b/rooms/x") == "allow"
    assert iam.evaluate(document, "s3:GetObject", "arn:aws:s3:::b/secret/x") == "implicit_deny"


def test_conditions_are_read_strictly() -> None:
    condition = {"Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    assert iam.evaluate(doc(allow("*", "*", **condition)), "s3:GetObject", "x") == "implicit_deny"
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*", **condition}
    assert iam.evaluate(doc(allow("*", "*"), deny), "s3:GetObject", "x") == "explicit_deny"


def test_operations_map_to_actions_and_resources(policies: iam.StagePolicies) -> None:
    local = policies.account
    transaction = iam.requests_for(
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": TABLE}},
                {"Update": {"TableName": TABLE}},
                {"Delete": {"TableName": TABLE}},
                {"ConditionCheck": {"TableName": "other"}},
            ]
        },
        local,
    )
    assert [(r.action, r.resource.rsplit("/", 1)[1]) for r in transaction] == [
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:DeleteItem", TABLE),
        ("dynamodb:ConditionCheckItem", "other"),
    ]
    tables = requests(("dynamodb", "BatchGetItem", {"RequestItems": {"a": {}, "b": {}}}), local)
    assert [r.resource.rsplit("/", 1)[1] for r in tables] == ["a", "b"]
    (on_index,) = requests(query(GSI1.name), local)
    assert on_index.resource == f"{TABLE_ARN}/index/{GSI1.name}"
    (post,) = requests(POST, local)
    assert post == iam.Request(
        "execute-api:ManageConnections",
        f"arn:aws:execute-api:{REGION}:{iam.LOCAL_ACCOUNT}:{iam.LOCAL_API_ID}/{STAGE}"
        "/POST/@connections/abc=",
    )
    (delete,) = iam.requests_for("execute-api", "DeleteConnection", {"ConnectionId": "c"}, local)
    assert "/DELETE/@connections/c" in delete.resource
    (head,) = requests(s3("HeadObject", "rooms/a"), local)
    assert head == iam.Request("s3:GetObject", f"arn:aws:s3:::{BUCKET}/rooms/a")
    (job,) = requests(SEND_JOB, local)
    assert job.resource == f"arn:aws:sqs:{REGION}:{iam.LOCAL_ACCOUNT}:dynamotalk-local-bot-jobs"
    (model,) = iam.requests_for("bedrock", "Converse", {"modelId": MODEL}, local)
    assert model == iam.Request(
        "bedrock:InvokeModel", f"arn:aws:bedrock:{REGION}::foundation-model/{MODEL}"
    )


def test_without_takes_one_action_out_of_one_document(policies: iam.StagePolicies) -> None:
    reduced = policies.without("ws_default", "dynamodb:PutItem")
    assert decisions(reduced, "ws_default", op("PutItem")) == ["implicit_deny"]
    assert decisions(reduced, "ws_default", op("UpdateItem")) == ["allow"]
    assert decisions(reduced, "http_api", op("PutItem")) == ["allow"]
    assert decisions(policies, "ws_default", op("PutItem")) == ["allow"]


# --- through real botocore clients ----------------------------------------------------------


@pytest.fixture
def enforced(
    policies: iam.StagePolicies, monkeypatch: pytest.MonkeyPatch
) -> Iterator[iam.StagePolicies]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    with iam.enforcing(policies):
        yield policies


def client(service: str) -> Any:
    """A client from a brand-new session, as lambdas/_wiring builds them."""
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=1)
    session = boto3.session.Session(region_name=REGION)
    return session.client(service, endpoint_url=CLOSED, config=config)


@pytest.fixture
def as_function() -> Iterator[Any]:
    tokens = []

    def enter(module: str) -> None:
        tokens.append(current_function.set(module))

    yield enter
    for token in reversed(tokens):
        current_function.reset(token)


def test_a_denied_dynamodb_call_fails_like_aws_without_leaving_the_process(
    enforced: iam.StagePolicies, as_function: Any
) -> None:
    ddb = client("dynamodb")
    as_function("ws_disconnect")
    iam.denials.clear()
    with pytest.raises(ClientError) as denied:
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": "x"}})
    error = denied.value.response
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Message"] == (
        f"User: arn:aws:sts::{iam.LOCAL_ACCOUNT}:assumed-role/dynamotalk-local-ws-disconnect-role"
        "/dynamotalk-local-ws-disconnect is not authorized to perform: dynamodb:PutItem on "
        f"resource: {TABLE_ARN} because no identity-based policy allows the dynamodb:PutItem "
        "action"
    )
    assert iam.denials[-1].function == "ws_disconnect"
    assert len(iam.denials) == 1
    # An allowed call goes on to the (closed) endpoint.
    with pytest.raises(EndpointConnectionError):
        ddb.update_item(TableName=TABLE, Key={"pk": {"S": "x"}})


def test_a_transaction_is_authorised_item_by_item(
    enforced: iam.StagePolicies, as_function: Any
) -> None:
    ddb = client("dynamodb")
    as_function("ws_default")
    put = {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "x"}}}}
    check = {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": {"pk": {"S": "y"}},
            "ConditionExpression": "attribute_exists(pk)",
        }
    }
    with pytest.raises(EndpointConnectionError):
        ddb.transact_write_items(TransactItems=[put])
    with pytest.raises(ClientError, match="dynamodb:ConditionCheckItem"):
        ddb.transact_write_items(TransactItems=[put, check])


def test_s3_denials_answer_access_denied_and_presigning_is_checked(
    enforced: iam.StagePolicies, as_function: Any
) -> None:
    s3_client = client("s3")
    as_function("ws_default")
    with pytest.raises(ClientError) as denied:
        s3_client.head_object(Bucket=BUCKET, Key="avatars/u/me.png")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError, match=r"s3:PutObject on resource: arn:aws:s3:::"):
        s3_client.generate_presigned_post(Bucket=BUCKET, Key="rooms/r/u/1/cat.png")
    with pytest.raises(ClientError, match=r"s3:GetObject"):
        s3_client.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": "avatars/u/me.png"}
        )
    as_function("http_api")
    form = s3_client.generate_presigned_post(Bucket=BUCKET, Key="avatars/u/1/me.png")
    assert form["fields"]["key"] == "avatars/u/1/me.png"
    assert s3_client.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "rooms/r/u/1/cat.png"}
    )
    with pytest.raises(ClientError, match=r"s3:PutObject on resource: arn:aws:s3:::\S+/other/"):
        s3_client.generate_presigned_post(Bucket=BUCKET, Key="other/u/1/x.png")


def test_management_api_denials_name_the_connection_arn(
    enforced: iam.StagePolicies, as_function: Any
) -> None:
    management = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=CLOSED,
        region_name=REGION,
        config=Config(retries={"total_max_attempts": 1}),
    )
    as_function("ws_connect")  # posts presence; closing sockets is not its business
    with pytest.raises(EndpointConnectionError):
        management.post_to_connection(ConnectionId="abc=", Data=b"{}")
    with pytest.raises(ClientError) as denied:
        management.delete_connection(ConnectionId="abc=")  # POST/@connections/* only
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "/DELETE/@connections/abc=" in denied.value.response["Error"]["Message"]


def test_calls_outside_an_invocation_or_before_enforcement_are_not_checked(
    policies: iam.StagePolicies, as_function: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    ddb = client("dynamodb")
    with iam.enforcing(policies), pytest.raises(EndpointConnectionError):
        ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "x"}})  # provisioning, setup
    as_function("ws_authorizer")
    with pytest.raises(EndpointConnectionError):
        ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "x"}})  # nothing enforced
    with iam.enforcing(policies), pytest.raises(ClientError, match="AccessDeniedException"):
        ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "x"}})


def test_unauthenticated_operations_are_not_checked(
    enforced: iam.StagePolicies, as_function: Any
) -> None:
    cognito = client("cognito-idp")
    as_function("ws_authorizer")  # may call nothing signed at all
    with pytest.raises(EndpointConnectionError):
        cognito.initiate_auth(
            ClientId="c", AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "a"}
        )
    with pytest.raises(ClientError, match="cognito-idp:AdminGetUser"):
        cognito.admin_get_user(UserPoolId="us-east-1_x", Username="a")


def test_a_default_session_created_before_the_import_is_covered_too(
    policies: iam.StagePolicies, as_function: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Provisioning may create boto3's default session (boto3.client) before the stack
    # enforces IAM; the management API client is built from that session later.
    import botocore.handlers

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    builtin = botocore.handlers.BUILTIN_HANDLERS
    without_checks = [spec for spec in builtin if spec not in iam.enforce._HANDLERS]
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", without_checks)
    boto3.setup_default_session(region_name=REGION)
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", builtin)
    config = Config(retries={"total_max_attempts": 1})
    as_function("ws_authorizer")
    with iam.enforcing(policies):  # enforcing installs the checks on the existing session
        ddb = boto3.client("dynamodb", endpoint_url=CLOSED, config=config)
        with pytest.raises(ClientError, match="AccessDeniedException"):
            ddb.get_item(TableName=TABLE, Key={"pk": {"S": "x"}})
