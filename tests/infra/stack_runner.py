"""Run the Pulumi program under Pulumi's mocks (no CLI, no AWS) and record every resource.

Each run calls `set_mocks` afresh (new monitor, new root stack), so dev and prod runs in one
process do not see each other's resources.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import pulumi
from pulumi.runtime.mocks import MockMonitor

from infra import package
from infra.program import build
from infra.settings import StageSettings

ACCOUNT = "123456789012"
STREAM_LABEL = "2026-01-01T00:00:00.000"
"""The label DynamoDB gives a table's stream (its creation time) in the stream's ARN."""


@attrs.define
class Resource:
    typ: str
    name: str
    inputs: dict[str, Any]
    id: str = ""
    """The physical id the mock gave it (what other resources' `apiId`, `bucket`... hold)."""
    protect: bool = False
    retain_on_delete: bool = False
    parent: str = ""
    """URN of the parent resource (component)."""
    dependencies: list[str] = attrs.Factory(list)
    """URNs of explicit depends_on resources."""
    urn: str = ""

    def json(self, key: str) -> Any:
        value = self.inputs[key]
        return json.loads(value) if isinstance(value, str) else value


@attrs.define
class Recorder(pulumi.runtime.Mocks):
    """Answers like AWS would (ids, ARNs, endpoints) and keeps every resource's inputs."""

    region: str
    resources: list[Resource] = attrs.Factory(list)
    calls: list[str] = attrs.Factory(list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        rid = f"{args.name}-id"
        arn_prefix = f"arn:aws:{{}}:{self.region}:{ACCOUNT}"
        typ = args.typ
        if typ == "aws:dynamodb/table:Table":
            state["arn"] = f"{arn_prefix.format('dynamodb')}:table/{state['name']}"
            if state.get("streamEnabled"):
                state["streamArn"] = f"{state['arn']}/stream/{STREAM_LABEL}"
        elif typ == "aws:s3/bucket:Bucket":
            rid = state["bucket"]
            state["arn"] = f"arn:aws:s3:::{state['bucket']}"
            state["bucketRegionalDomainName"] = f"{state['bucket']}.s3.{self.region}.amazonaws.com"
        elif typ == "aws:apigatewayv2/api:Api":
            rid = f"api{len(self.resources)}"
            scheme = "wss" if state.get("protocolType") == "WEBSOCKET" else "https"
            state["apiEndpoint"] = f"{scheme}://{rid}.execute-api.{self.region}.amazonaws.com"
            state["executionArn"] = f"{arn_prefix.format('execute-api')}:{rid}"
        elif typ == "aws:lambda/function:Function":
            arn = f"{arn_prefix.format('lambda')}:function:{state['name']}"
            state["arn"] = arn
            state["invokeArn"] = self.invoke_arn(arn)
            # A published function's new version (SnapStart publishes); else only $LATEST.
            state["version"] = "1" if state.get("publish") else "$LATEST"
            state["qualifiedArn"] = f"{arn}:{state['version']}"
            state["qualifiedInvokeArn"] = self.invoke_arn(state["qualifiedArn"])
        elif typ == "aws:lambda/alias:Alias":
            function = state["functionName"]
            state["arn"] = f"{arn_prefix.format('lambda')}:function:{function}:{state['name']}"
            state["invokeArn"] = self.invoke_arn(state["arn"])
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            state["arn"] = f"{arn_prefix.format('logs')}:log-group:{state['name']}"
        elif typ == "aws:cognito/userPool:UserPool":
            rid = f"{self.region}_Pool{len(self.resources)}"
            state["arn"] = f"{arn_prefix.format('cognito-idp')}:userpool/{rid}"
        elif typ == "aws:cloudfront/distribution:Distribution":
            state["domainName"] = "d111111abcdef8.cloudfront.net"
            state["arn"] = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1"
        elif typ == "aws:sqs/queue:Queue":
            state["arn"] = f"arn:aws:sqs:{self.region}:{ACCOUNT}:{state['name']}"
            state["url"] = f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT}/{state['name']}"
        elif typ == "aws:cloudwatch/eventBus:EventBus":
            state["arn"] = f"{arn_prefix.format('events')}:event-bus/{state['name']}"
        elif typ == "aws:cloudwatch/eventRule:EventRule":
            bus = state.get("eventBusName", "default")
            state["arn"] = f"{arn_prefix.format('events')}:rule/{bus}/{state['name']}"
        elif typ == "aws:iam/role:Role":
            state["arn"] = f"arn:aws:iam::{ACCOUNT}:role/{args.name}"
        elif typ == "aws:acm/certificate:Certificate":
            # ACM answers in the certificate's own region (its `region` input, else the stack's).
            region = state.get("region") or self.region
            state["arn"] = f"arn:aws:acm:{region}:{ACCOUNT}:certificate/{args.name}"
            names = [state["domainName"], *(state.get("subjectAlternativeNames") or [])]
            state["domainValidationOptions"] = [
                {
                    "domainName": name,
                    "resourceRecordName": f"_x{i}.{name}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_y{i}.acm-validations.aws.",
                }
                for i, name in enumerate(names)
            ]
        elif typ == "aws:apigatewayv2/domainName:DomainName":
            config = dict(state["domainNameConfiguration"])
            config["targetDomainName"] = (
                f"d-{len(self.resources)}.execute-api.{self.region}.amazonaws.com"
            )
            config["hostedZoneId"] = "ZAPIGATEWAYREGION"
            state["domainNameConfiguration"] = config
            rid = state["domainName"]
        elif typ == "aws:route53/record:Record":
            state["fqdn"] = state["name"]
        elif typ == "aws:rum/appMonitor:AppMonitor":
            state["appMonitorId"] = f"{args.name}-0000"
            state["arn"] = f"{arn_prefix.format('rum')}:appmonitor/{state['name']}"
        elif typ == "aws:cognito/identityPool:IdentityPool":
            rid = f"{self.region}:{args.name}-pool"
        else:
            state.setdefault("arn", f"{arn_prefix.format('mock')}:{args.name}")
        state.setdefault("name", args.name)
        self.resources.append(Resource(typ, args.name, state, id=rid))
        return rid, state

    def invoke_arn(self, function_arn: str) -> str:
        """What API Gateway calls for a function (or a version or alias of one)."""
        return (
            f"arn:aws:apigateway:{self.region}:lambda:path/2015-03-31/functions/"
            f"{function_arn}/invocations"
        )

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        self.calls.append(args.token)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/deployer",
                "id": ACCOUNT,
                "userId": "AIDAEXAMPLE",
            }
        raise AssertionError(f"the program made an unexpected call: {args.token}")

    def of(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.typ == typ]

    def named(self, name: str) -> Resource:
        return next(r for r in self.resources if r.name == name)

    def by_urn(self, urn: str) -> Resource:
        return next(r for r in self.resources if r.urn == urn)


class OptionsMonitor(MockMonitor):
    """The mock monitor, also keeping each resource's options (protect, retain, parent, deps)."""

    recorder: Recorder

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder)
        self.recorder = recorder

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method's name
        reply = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            # Registrations run on worker threads: find this one by its (unique) type and name.
            (resource,) = [
                r
                for r in self.recorder.resources
                if (r.typ, r.name) == (request.type, request.name)
            ]
            resource.protect = bool(request.protect)
            resource.retain_on_delete = bool(request.retainOnDelete)
            resource.parent = request.parent
            resource.dependencies = list(request.dependencies)
            resource.urn = reply.urn
        return reply


def run(settings: StageSettings) -> tuple[Recorder, dict[str, Any]]:
    """Build the stack for `settings` under fresh mocks; returns the recorder and the outputs."""
    recorder = Recorder(region=settings.region)
    pulumi.runtime.set_mocks(
        recorder,
        project="dynamotalk",
        stack=settings.stage,
        preview=False,
        monitor=OptionsMonitor(recorder),
    )
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        layers = {name: pulumi.AssetArchive({}) for name in package.LAYERS}
        stack = build(settings, pulumi.AssetArchive({}), layers)
        keys = list(stack.outputs)
        return pulumi.Output.all(*stack.outputs.values()).apply(
            lambda values: outputs.update(zip(keys, values, strict=True))
        )

    program()
    return recorder, outputs
