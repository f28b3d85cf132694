"""Data: the DynamoDB table from tables/schema.py (on-demand, TTL, encryption, PITR per stage),
with the stream that carries each stored room change to the fan-out (infra/delivery.py)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from dynamotalk.tables import CHAT_TABLE
from infra.settings import StageSettings

STREAM_VIEW = "NEW_IMAGE"
"""The fan-out needs the change item as written (its event snapshot), never the old image."""


class Data(pulumi.ComponentResource):
    table: aws.dynamodb.Table

    def __init__(
        self, name: str, settings: StageSettings, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("dynamotalk:data:Data", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, protect=settings.deletion_protection)
        self.table = aws.dynamodb.Table(
            f"{name}-chat",
            name=CHAT_TABLE.physical_name(settings.stage),
            billing_mode="PAY_PER_REQUEST",
            hash_key=CHAT_TABLE.hash_key,
            range_key=CHAT_TABLE.range_key,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=key, type=kind)
                for key, kind in CHAT_TABLE.attributes.items()
            ],
            global_secondary_indexes=[
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=index.name,
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name=index.hash_key, key_type="HASH"
                        ),
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name=index.range_key, key_type="RANGE"
                        ),
                    ],
                    projection_type="ALL",
                )
                for index in CHAT_TABLE.indexes
            ],
            # Change items expire with the rest (CHANGE_LOG_DAYS) through the same attribute.
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=CHAT_TABLE.ttl_attribute, enabled=True),
            stream_enabled=True,
            stream_view_type=STREAM_VIEW,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                enabled=settings.point_in_time_recovery
            ),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            deletion_protection_enabled=settings.deletion_protection,
            tags={"stage": settings.stage, "app": "dynamotalk"},
            opts=child,
        )
        self.register_outputs(
            {
                "tableName": self.table.name,
                "tableArn": self.table.arn,
                "streamArn": self.table.stream_arn,
            }
        )
