"""Sessions end with their tokens (src/dynamotalk/sessions.py): the EventBridge rules.

- Every scheduled function (routes.py `schedule_s`: the session sweeper) gets a schedule rule.
- The revoking Cognito calls (revocation.py) reach the default event bus as "AWS API Call via
  CloudTrail" events, which EventBridge receives only while a CloudTrail trail is logging
  management events in the region ("AWS service events delivered via AWS CloudTrail",
  EventBridge User Guide). The rule sends them to lambdas/session_revoked.py. The trail itself
  is the account's (most accounts have an organisation or account trail already; a second one
  only costs): docs/DEPLOY.md says how to check.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from dynamotalk.revocation import event_pattern
from dynamotalk.routes import FUNCTIONS, function_name, resource_name
from dynamotalk.workers import SESSION_REVOKED
from infra.functions import LambdaFunction
from infra.settings import StageSettings

EVENTS_PRINCIPAL = "events.amazonaws.com"


class Sessions(pulumi.ComponentResource):
    schedules: dict[str, aws.cloudwatch.EventRule]
    revocations: aws.cloudwatch.EventRule

    def __init__(
        self,
        name: str,
        settings: StageSettings,
        functions: Mapping[str, LambdaFunction],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:sessions:Sessions", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.schedules = {}
        for function in FUNCTIONS:
            if function.schedule_expression is None:
                continue
            target = functions[function.module]
            rule = aws.cloudwatch.EventRule(
                f"{function.module}-schedule",
                name=f"{function_name(settings.stage, function.module)}-schedule",
                description=f"Runs {function.module} {function.schedule_expression}",
                schedule_expression=function.schedule_expression,
                opts=child,
            )
            self._invoke(function.module, rule, target)
            self.schedules[function.module] = rule
        self.revocations = aws.cloudwatch.EventRule(
            "session-revocations",
            name=resource_name(settings.stage, "session-revocations"),
            description="Cognito sign-out, disable, delete, revoke: close the user's sockets",
            event_pattern=pulumi.Output.json_dumps(event_pattern()),
            opts=child,
        )
        self._invoke(SESSION_REVOKED, self.revocations, functions[SESSION_REVOKED])
        self.register_outputs(
            {"revocations": self.revocations.arn, **{m: r.arn for m, r in self.schedules.items()}}
        )

    def _invoke(self, module: str, rule: aws.cloudwatch.EventRule, target: LambdaFunction) -> None:
        child = pulumi.ResourceOptions(parent=self)
        aws.cloudwatch.EventTarget(
            f"{module}-target", rule=rule.name, arn=target.target_arn, opts=child
        )
        target.allow_invoke(f"{module}-from-events", EVENTS_PRINCIPAL, rule.arn, self)
