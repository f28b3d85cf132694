"""The local stage's identity and every function's policy document on its ARNs.

Account LOCAL_ACCOUNT (moto's default account), WebSocket API id LOCAL_API_ID, role
`dynamotalk-<stage>-<function>-role`, session named after the function.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import attrs

from dynamotalk.local import events
from dynamotalk.local.iam.evaluation import listed
from dynamotalk.permissions import PERMISSIONS, PolicyDocument, StageArns, policy_document
from dynamotalk.routes import BOT_QUEUE, function_name, resource_name, vapid_parameter_name
from dynamotalk.workers import (
    ERASURE_QUEUE,
    EXPORT_QUEUE,
    FANOUT_DLQ,
    FANOUT_PAGES_QUEUE,
    PUSH_QUEUE,
)

LOCAL_ACCOUNT = events.ACCOUNT
"""The account of the local stage's ARNs (moto's default account)."""
LOCAL_API_ID = events.API_ID
"""The WebSocket API id of the local stage (10 characters, like API Gateway's ids)."""


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

    def stream_arn(self, table: str) -> str:
        """The table's stream: any stream label (the local stream is emulated in process, and
        no handler reads it; only the fan-out's event source mapping would, with its role)."""
        return f"{self.table_arn(table)}/stream/*"

    def event_bus_arn(self, name: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:event-bus/{name}"

    def user_pool_arn(self, pool_id: str) -> str:
        return f"arn:aws:cognito-idp:{self.region}:{self.account}:userpool/{pool_id}"

    def parameter_arn(self, name: str) -> str:
        """An SSM parameter's ARN (a name's leading `/` is not repeated after `parameter`)."""
        return f"arn:aws:ssm:{self.region}:{self.account}:parameter/{name.lstrip('/')}"


@attrs.frozen
class StagePolicies:
    """Every function's policy document for one local stage, and that stage's identity."""

    account: LocalAccount
    documents: Mapping[str, PolicyDocument]

    def without(self, module: str, action: str) -> StagePolicies:
        """The same policies with one action taken out of one function's document."""
        document = json.loads(json.dumps(self.documents[module]))
        for statement in document["Statement"]:
            actions = [a for a in listed(statement.get("Action")) if a != action]
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
    event_bus_name: str | None = None,
    account: str = LOCAL_ACCOUNT,
    api_id: str = LOCAL_API_ID,
    user_pool_id: str | None = None,
) -> StagePolicies:
    """The documents the Pulumi program would deploy for this stage, built on local ARNs.

    Without `bot_model_id` the bot worker gets no document (the local stack answers @bot
    in-process, not as the bot_worker function): any call made as bot_worker is then denied.
    Without `event_bus_name` the stage publishes no events, as a cloud stage with
    `publishEvents` off: the fan-out's document grants no events:PutEvents.
    """
    local = LocalAccount(stage=stage, region=region, account=account, api_id=api_id)
    arns = StageArns(
        region=region,
        table_arn=local.table_arn(table_name),
        bucket_arn=f"arn:aws:s3:::{bucket_name}",
        connections_arn=local.connection_arn("POST", "*"),
        bot_queue_arn=local.queue_arn(bot_queue_name or resource_name(stage, BOT_QUEUE)),
        bot_model_id=bot_model_id,
        stream_arn=local.stream_arn(table_name),
        fanout_pages_queue_arn=local.queue_arn(resource_name(stage, FANOUT_PAGES_QUEUE)),
        fanout_dlq_arn=local.queue_arn(resource_name(stage, FANOUT_DLQ)),
        event_bus_arn=local.event_bus_arn(event_bus_name) if event_bus_name else None,
        push_queue_arn=local.queue_arn(resource_name(stage, PUSH_QUEUE)),
        vapid_parameter_arn=local.parameter_arn(vapid_parameter_name(stage)),
        export_queue_arn=local.queue_arn(resource_name(stage, EXPORT_QUEUE)),
        erasure_queue_arn=local.queue_arn(resource_name(stage, ERASURE_QUEUE)),
        user_pool_arn=local.user_pool_arn(user_pool_id) if user_pool_id else None,
    )
    documents = {
        module: policy_document(module, arns, local.log_group_arn(module))
        for module, needs in PERMISSIONS.items()
        if bot_model_id is not None or not needs.answers_bot_jobs
    }
    return StagePolicies(account=local, documents=documents)
