"""The whole stack of one stage, as a function so tests can run it under Pulumi's mocks."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import pulumi
import pulumi_aws as aws

from dynamotalk import rum, webheaders
from dynamotalk.search_function import SEARCH_INDEXER
from dynamotalk.stage_config import stage_config
from dynamotalk.userpool import cognito_url
from dynamotalk.workers import ACCOUNT_ERASURE, DATA_EXPORT, FANOUT, FANOUT_PAGES, PUSH_SENDER
from infra.auth import Auth
from infra.bot import Bot
from infra.data import Data
from infra.delivery import Delivery
from infra.domains import ApiDomains, api_domains, domain_outputs
from infra.erasure import Erasure
from infra.export import Export
from infra.functions import Code, Functions, layer_version
from infra.http_api import HttpApi
from infra.monitoring import Monitoring
from infra.policies import Wiring
from infra.push import Push
from infra.search import SearchIndexing
from infra.sessions import Sessions
from infra.settings import StageSettings
from infra.storage_web import Attachments, Web
from infra.web_rum import WebRum
from infra.websocket_api import ApiGatewayLogRole, WebSocketApi


@attrs.frozen
class Stack:
    """Every component of one stage, and the outputs to export."""

    data: Data
    attachments: Attachments
    auth: Auth
    functions: Functions
    websocket: WebSocketApi
    http: HttpApi
    web: Web
    monitoring: Monitoring
    log_role: ApiGatewayLogRole | None
    outputs: dict[str, pulumi.Output[str]]
    sessions: Sessions | None = None
    delivery: Delivery | None = None
    domains: ApiDomains | None = None
    rum: WebRum | None = None
    push: Push | None = None


def web_content_security_policy(
    settings: StageSettings, websocket: WebSocketApi, attachments: Attachments
) -> pulumi.Output[str]:
    """The CSP of the web client: the origins config.json names, and the attachments bucket."""

    def policy(args: list[str]) -> str:
        ws_url, bucket = args
        origins = webheaders.WebOrigins(
            api=webheaders.execute_api_hosts(settings.region),
            websocket=webheaders.source_of(ws_url),
            cognito=webheaders.source_of(cognito_url(settings.region)),
            files=webheaders.bucket_origins(bucket, settings.region),
        )
        return webheaders.content_security_policy(
            api_domain_origins(settings, rum_origins(settings, origins))
        )

    return pulumi.Output.all(websocket.url, attachments.bucket.bucket).apply(policy)


def api_domain_origins(
    settings: StageSettings, origins: webheaders.WebOrigins
) -> webheaders.WebOrigins:
    """Once config.json names the custom API domains, the CSP allows exactly them in place of
    the execute-api hosts (infra/domains.py)."""
    if not settings.api_domains_served:
        return origins
    if settings.http_domain:
        origins = attrs.evolve(origins, api=f"https://{settings.http_domain}")
    if settings.ws_domain:
        origins = attrs.evolve(origins, websocket=f"wss://{settings.ws_domain}")
    return origins


def rum_origins(settings: StageSettings, origins: webheaders.WebOrigins) -> webheaders.WebOrigins:
    """`rum: true` only: the RUM web client's script, its data plane and its guest credentials."""
    if not settings.rum:
        return origins
    return attrs.evolve(
        origins,
        scripts=(rum.RUM_SCRIPT_URL,),  # the one file, not the whole CDN
        monitoring=(
            rum.data_plane_endpoint(settings.region),
            *rum.identity_origins(settings.region),
        ),
    )


def build(
    settings: StageSettings, archive: pulumi.Archive, layers: Mapping[str, pulumi.Archive]
) -> Stack:
    """Create the stage's resources; `archive` is the Lambda code every function runs, `layers`
    each of package.LAYERS by name: the deps layer every function adds, the JWT layer the token
    verifiers add (infra/package.py builds them all)."""
    identity = aws.get_caller_identity_output()
    account_id = identity.account_id
    partition = identity.arn.apply(lambda arn: arn.split(":")[1])

    code = Code(archive, {name: layer_version(settings, name, a).arn for name, a in layers.items()})
    data = Data("data", settings)
    attachments = Attachments("attachments", settings, account_id)
    websocket = WebSocketApi("websocket", settings)
    bot = Bot("bot", settings, data.table.name)
    delivery = Delivery("delivery", settings, data.table.stream_arn)
    push = Push("push", settings) if settings.push else None
    export = Export("export", settings)

    erasure = Erasure("erasure", settings)
    base = Wiring(
        table_name=data.table.name,
        table_arn=data.table.arn,
        bucket_name=attachments.bucket.bucket,
        bucket_arn=attachments.bucket.arn,
        bot_queue_url=bot.queue.url,
        bot_queue_arn=bot.queue.arn,
        stream_arn=data.table.stream_arn,
        fanout_pages_queue_url=delivery.pages.url,
        fanout_pages_queue_arn=delivery.pages.arn,
        fanout_dlq_arn=delivery.dead_letters.arn,
        event_bus_name=delivery.event_bus_name,
        event_bus_arn=delivery.event_bus_arn,
        push_queue_url=push.queue.url if push else None,
        push_queue_arn=push.queue.arn if push else None,
        push_public_key=push.public_key if push else None,
        vapid_parameter_name=push.parameter.name if push else None,
        vapid_parameter_arn=push.parameter.arn if push else None,
        export_queue_url=export.queue.url,
        export_queue_arn=export.queue.arn,
        erasure_queue_url=erasure.queue.url,
        erasure_queue_arn=erasure.queue.arn,
    )
    # The triggers come first (the pool needs them) and so cannot know the pool's ids.
    auth = Auth("auth", settings, base, code)
    wiring = attrs.evolve(
        base,
        connections_arn=websocket.connections_arn,
        management_endpoint=websocket.management_endpoint,
        user_pool_id=auth.user_pool.id,
        user_pool_client_id=auth.client.id,
        user_pool_arn=auth.user_pool.arn,
    )
    functions = Functions("functions", settings, wiring, code)
    bot.consume(functions["bot_worker"])
    delivery.consume(functions[FANOUT], functions[FANOUT_PAGES])
    if push is not None:
        push.consume(functions[PUSH_SENDER])
    export.consume(functions[DATA_EXPORT])

    erasure.consume(functions[ACCOUNT_ERASURE])

    SearchIndexing(
        "search", data.table.stream_arn, functions[SEARCH_INDEXER], delivery.dead_letters.arn
    )
    sessions = Sessions("sessions", settings, functions.items())
    log_role = (
        ApiGatewayLogRole(
            "apigateway-logs",
            pulumi.Output.concat(
                "arn:", partition, ":logs:", settings.region, ":", account_id, ":log-group:*"
            ),
        )
        if settings.manage_api_gateway_log_role
        else None
    )
    websocket.wire(functions.items(), [log_role.account] if log_role else [])
    # The distribution first: the browser calls the HTTP API and S3 from its origin.
    web = Web(
        "web", settings, account_id, web_content_security_policy(settings, websocket, attachments)
    )
    http = HttpApi(
        "http",
        settings,
        functions.items(),
        auth.user_pool.id,
        auth.client.id,
        allowed_origins=web.allowed_origins,
    )
    attachments.allow_browsers(web.allowed_origins)
    domains = api_domains(settings, http, websocket)
    custom_urls = domains.urls if domains else {}
    http_url = custom_urls.get(settings.http_domain or "", http.url)
    ws_url = custom_urls.get(settings.ws_domain or "", websocket.url)
    web_rum = (
        WebRum(
            "rum",
            settings,
            pulumi.Output.all(
                web.distribution.domain_name,
                *([settings.custom_domain] if settings.custom_domain else []),
            ),
        )
        if settings.rum
        else None
    )
    web.publish_config(
        stage_config(
            ws_url=ws_url,
            http_url=http_url,
            cognito_url=cognito_url(settings.region),
            region=settings.region,
            user_pool_id=auth.user_pool.id,
            user_pool_client_id=auth.client.id,
            stage=settings.stage,
            max_message_chars=settings.max_message_chars,
            min_password=auth.spec.password_policy.minimum_length,
            rum=web_rum.client_config(settings) if web_rum else None,
        )
    )
    every_function = {**functions.items(), **auth.triggers}
    monitoring = Monitoring(
        "monitoring",
        settings,
        every_function,
        http.api.id,
        websocket.api.id,
        data.table.name,
        dead_letter_queues={
            "bot": bot.dead_letters.name,
            "fanout": delivery.dead_letters.name,
            **({"push": push.dead_letters.name} if push else {}),
            "export": export.dead_letters.name,
            "erasure": erasure.dead_letters.name,
        },
    )
    outputs: dict[str, pulumi.Output[str]] = {
        "wsUrl": ws_url,
        "httpUrl": http_url,
        "webUrl": web.url,
        "userPoolId": auth.user_pool.id,
        "userPoolClientId": auth.client.id,
        "bucketName": attachments.bucket.bucket,
        "tableName": data.table.name,
        "region": pulumi.Output.from_input(settings.region),
    }
    outputs.update(domain_outputs(domains, http.url, websocket.url))
    if web_rum:
        outputs["rumAppMonitorId"] = web_rum.app_monitor.app_monitor_id
    return Stack(
        data, attachments, auth, functions, websocket, http, web, monitoring, log_role, outputs,
        sessions=sessions, delivery=delivery, domains=domains, rum=web_rum, push=push,
    )  # fmt: skip
