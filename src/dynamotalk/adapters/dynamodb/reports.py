"""ReportStore on DynamoDB: a room's reports and its moderation queue (issue 17).

A report and its open-report claim are written by one transaction, so a reporter holds at most
one open report per message; resolving rewrites the report's GSI1PK (from the open queue to the
resolved one) and deletes the claim in another, conditional on the report being open.
Key shapes in tables/keys.py, codecs in tables/report_items.py, costs in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from dynamotalk.adapters.dynamodb.table import Table, cancellation_reasons, error_code
from dynamotalk.domain.reports import Report, Resolution, Status
from dynamotalk.tables import GSI1
from dynamotalk.tables import keys as k
from dynamotalk.tables.codecs import dump, key
from dynamotalk.tables.report_items import (
    report_claim_item,
    report_from_item,
    report_item,
    resolution_attributes,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CANCELLED = "TransactionCanceledException"
_FAILED = "ConditionalCheckFailed"


@attrs.define
class DynamoReportStore:
    client: DynamoDBClient
    table_name: str
    table: Table = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.table = Table(self.client, self.table_name)

    def add(self, report: Report) -> tuple[Report, bool]:
        claim = report_claim_item(report)
        try:
            self.table.transact(
                [self.table.transact_put(report_item(report)), self.table.transact_put(claim)]
            )
        except ClientError as error:
            if error_code(error) != _CANCELLED or _FAILED not in cancellation_reasons(error):
                raise
            held = self.table.get(claim["PK"], claim["SK"])
            found = None if held is None else self.get(report.room_id, str(held["report_id"]))
            if found is None:  # resolved between the two reads: the caller may try again
                raise
            return found, False
        return report, True

    def get(self, room_id: str, report_id: str) -> Report | None:
        item = self.table.get(k.room_pk(room_id), k.report_sk(report_id))
        return None if item is None else report_from_item(item)

    def page(self, room_id: str, status: Status, before_id: str | None, limit: int) -> list[Report]:
        condition = "GSI1PK = :pk"
        values: dict[str, Any] = {":pk": {"S": k.reports_gsi_pk(room_id, status.value)}}
        if before_id is not None:
            condition += " AND GSI1SK < :before"
            values[":before"] = {"S": k.report_sk(before_id)}
        items = self.table.query(
            limit=limit,
            IndexName=GSI1.name,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
        )
        return [report_from_item(i) for i in items]

    def resolve(self, room_id: str, report_id: str, resolution: Resolution) -> Report | None:
        report = self.get(room_id, report_id)
        if report is None or report.resolution is not None:
            return report
        resolved = attrs.evolve(report, resolution=resolution)
        attributes = {n: v for n, v in resolution_attributes(resolution).items() if v is not None}
        values = dump(
            {
                ":pk": k.reports_gsi_pk(room_id, Status.RESOLVED.value),
                **{f":{n}": v for n, v in attributes.items()},
            }
        )
        expression = "SET GSI1PK = :pk, " + ", ".join(f"#{n} = :{n}" for n in attributes)
        update: Any = {
            "Update": {
                "TableName": self.table.table_name,
                "Key": key(k.room_pk(room_id), k.report_sk(report_id)),
                "UpdateExpression": expression,
                "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(outcome)",
                "ExpressionAttributeNames": {f"#{n}": n for n in attributes},
                "ExpressionAttributeValues": values,
            }
        }
        claim = report_claim_item(report)
        delete: Any = {
            "Delete": {"TableName": self.table.table_name, "Key": key(claim["PK"], claim["SK"])}
        }
        try:
            self.table.transact([update, delete])
        except ClientError as error:
            if error_code(error) != _CANCELLED or _FAILED not in cancellation_reasons(error):
                raise
            return self.get(room_id, report_id)  # resolved meanwhile: as the other resolver left it
        return resolved
