"""Functions: one Lambda per lambdas/ module, own log group, own least-privilege role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
import pulumi
import pulumi_aws as aws

from dynamotalk.erasure_permissions import ERASURE_SENDERS
from dynamotalk.permissions_export import REQUESTER as EXPORT_REQUESTER
from dynamotalk.routes import (
    COGNITO_TRIGGERS,
    FUNCTION_BY_MODULE,
    FUNCTIONS,
    HTTP_ROUTES,
    function_name,
    resource_name,
)
from dynamotalk.settings import environment
from dynamotalk.workers import PUSH_SENDER
from infra.package import LAYERS, layers_of
from infra.policies import PERMISSIONS, Wiring, policy_document
from infra.settings import StageSettings

RUNTIME = aws.lambda_.Runtime.PYTHON3D13
"""The newest Python runtime Lambda offers (the zip's wheels are built for it)."""
HTTP_MODULES = frozenset(route.module for route in HTTP_ROUTES)
"""The functions behind the HTTP API (GET /push/key reads the VAPID public key)."""
LIVE_ALIAS = "live"
"""With SnapStart on, every invoker calls this alias, which follows the latest published
version (SnapStart restores published versions only, never $LATEST). docs/DEPLOY.md."""


@attrs.frozen
class Code:
    """What the functions run (infra/package.py): one code archive for all, and the layers
    each adds (package.layers_of): the deps layer every function, the JWT layer with pyjwt and
    cryptography only the functions verifying JWTs (`package.JWT_FUNCTIONS`)."""

    archive: pulumi.Archive
    layer_arns: Mapping[str, pulumi.Input[str]]
    """Each of package.LAYERS by name -> its layer version's ARN."""

    def layers(self, module: str) -> list[pulumi.Input[str]]:
        return [self.layer_arns[layer] for layer in layers_of(module)]


def layer_version(
    settings: StageSettings, layer: str, archive: pulumi.Archive
) -> aws.lambda_.LayerVersion:
    """One of package.LAYERS (python/: its distributions), for the stage's runtime and
    architecture."""
    return aws.lambda_.LayerVersion(
        f"{layer}-layer",
        layer_name=resource_name(settings.stage, layer),
        description=LAYERS[layer],
        code=archive,
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[settings.lambda_architecture],
    )


class LambdaFunction(pulumi.ComponentResource):
    """One lambdas/<module>.py: the function, its log group, its role and inline policy."""

    function: aws.lambda_.Function
    log_group: aws.cloudwatch.LogGroup
    role: aws.iam.Role
    alias: aws.lambda_.Alias | None
    """LIVE_ALIAS on the latest published version, with SnapStart on; None without (every
    invoker then calls the function's $LATEST, as before)."""

    def __init__(
        self,
        module: str,
        settings: StageSettings,
        wiring: Wiring,
        code: Code,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:functions:Function", module, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        name = function_name(settings.stage, module)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{module}-logs",
            name=f"/aws/lambda/{name}",
            retention_in_days=settings.log_retention_days,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{module}-role",
            assume_role_policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            opts=child,
        )
        self.policy = aws.iam.RolePolicy(
            f"{module}-policy",
            role=self.role.id,
            policy=policy_document(module, settings, wiring, self.log_group.arn),
            opts=child,
        )
        needs = PERMISSIONS[module]
        bot_jobs = needs.queues_bot_jobs and wiring.bot_queue_url is not None
        answers = needs.answers_bot_jobs
        pages = needs.sends_fanout_pages
        publishes = needs.publishes_events
        variables: dict[str, pulumi.Input[str]] = environment(
            stage=settings.stage,
            table_name=wiring.table_name,
            bucket_name=wiring.bucket_name,
            auto_confirm=settings.auto_confirm_signups,
            max_message_chars=settings.max_message_chars,
            message_retention_days=settings.message_retention_days,
            user_limits=settings.user_limits,
            user_pool_id=wiring.user_pool_id,
            user_pool_client_id=wiring.user_pool_client_id,
            management_endpoint=wiring.management_endpoint,
            bot="sqs" if bot_jobs else None,
            bot_queue_url=wiring.bot_queue_url if bot_jobs else None,
            bot_model_id=settings.bot_model_id if answers else None,
            bot_max_tokens=settings.bot_max_tokens if answers else None,
            bot_temperature=settings.bot_temperature_percent / 100 if answers else None,
            fanout_pages_queue_url=wiring.fanout_pages_queue_url if pages else None,
            # Unset where the stage does not publish (no bus wired): events out off.
            event_bus_name=wiring.event_bus_name if publishes else None,
            # Web Push (infra/push.py): unset where the stage has push off.
            push_queue_url=wiring.push_queue_url if needs.sends_push_jobs else None,
            push_public_key=wiring.push_public_key if module in HTTP_MODULES else None,
            vapid_parameter=wiring.vapid_parameter_name if needs.sends_push else None,
            vapid_subject=settings.vapid_subject if needs.sends_push else None,
            # Export my data (infra/export.py): http_api queues the jobs.
            export_queue_url=wiring.export_queue_url if module == EXPORT_REQUESTER else None,
            # Erase my account (infra/erasure.py): who queues jobs, and the stage's policy.
            erasure_queue_url=wiring.erasure_queue_url if module in ERASURE_SENDERS else None,
            erase_policy=settings.erase_policy if module in ERASURE_SENDERS else None,
        )
        self.function = aws.lambda_.Function(
            module,
            name=name,
            description=FUNCTION_BY_MODULE[module].description,
            runtime=RUNTIME,
            architectures=[settings.lambda_architecture],
            handler=f"lambdas.{module}.handler",
            code=code.archive,
            layers=code.layers(module),
            # Each function's own runtime needs (routes.py); the stage may raise the memory.
            memory_size=FUNCTION_BY_MODULE[module].memory_for(settings.lambda_memory_mb),
            timeout=FUNCTION_BY_MODULE[module].timeout_s,
            # Off by default: a new account's concurrency quota (10) leaves nothing to reserve
            # (Lambda keeps 100 unreserved). docs/DEPLOY.md.
            reserved_concurrent_executions=(
                FUNCTION_BY_MODULE[module].reserved_concurrency or None
                if settings.reserved_concurrency
                else None
            ),
            role=self.role.arn,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=variables),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(
                mode="Active" if settings.xray else "PassThrough"
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON", log_group=self.log_group.name
            ),
            # SnapStart snapshots a version when it is published: each change publishes one.
            publish=settings.snap_start or None,
            snap_start=(
                aws.lambda_.FunctionSnapStartArgs(apply_on="PublishedVersions")
                if settings.snap_start
                else None
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, self.policy]),
        )
        self.alias = (
            aws.lambda_.Alias(
                f"{module}-{LIVE_ALIAS}",
                name=LIVE_ALIAS,
                description="What every invoker calls: the latest published (snapshotted) version",
                function_name=self.function.name,
                function_version=self.function.version,
                opts=child,
            )
            if settings.snap_start
            else None
        )
        self.register_outputs({"arn": self.function.arn, "name": self.function.name})

    @property
    def invoke_arn(self) -> pulumi.Output[str]:
        """What an API Gateway integration or authorizer calls."""
        return self.alias.invoke_arn if self.alias else self.function.invoke_arn

    @property
    def target_arn(self) -> pulumi.Output[str]:
        """What Cognito (a trigger) and EventBridge (a rule target) invoke."""
        return self.alias.arn if self.alias else self.function.arn

    @property
    def mapping_target(self) -> pulumi.Output[str]:
        """What an event source mapping (SQS, the table's stream) names: the alias's ARN, or
        the function's name as before SnapStart."""
        return self.alias.arn if self.alias else self.function.name

    def allow_invoke(
        self, name: str, principal: str, source_arn: pulumi.Input[str], parent: pulumi.Resource
    ) -> aws.lambda_.Permission:
        """Let one AWS service (API Gateway, Cognito, EventBridge) invoke this function from one
        source: its alias when there is one (a permission on the function would not cover it)."""
        return aws.lambda_.Permission(
            name,
            action="lambda:InvokeFunction",
            function=self.function.name,
            qualifier=self.alias.name if self.alias else None,
            principal=principal,
            source_arn=source_arn,
            opts=pulumi.ResourceOptions(parent=parent),
        )


class Functions(pulumi.ComponentResource):
    """Every function but the Cognito triggers (those belong to Auth, the pool needs them)."""

    by_module: dict[str, LambdaFunction]

    def __init__(
        self,
        name: str,
        settings: StageSettings,
        wiring: Wiring,
        code: Code,
        modules: Sequence[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:functions:Functions", name, None, opts)
        triggers = set(COGNITO_TRIGGERS.values())
        if not settings.push:  # no push queue, no push_sender (infra/push.py)
            triggers.add(PUSH_SENDER)
        wanted = modules or [f.module for f in FUNCTIONS if f.module not in triggers]
        self.by_module = {
            module: LambdaFunction(
                module, settings, wiring, code, pulumi.ResourceOptions(parent=self)
            )
            for module in wanted
        }
        self.register_outputs({m: f.function.arn for m, f in self.by_module.items()})

    def __getitem__(self, module: str) -> LambdaFunction:
        return self.by_module[module]

    def items(self) -> Mapping[str, LambdaFunction]:
        return self.by_module
