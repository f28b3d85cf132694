"""ExportJobs on the chat table (export_ports.py): items under the user's own partition.

    USER#{user_id} / EXPORT#{export_id}   status, created_at, finished_at   TTL: expires_at
    USER#{user_id} / EXPORTRUN            export_id, started_at             TTL: expires_at

A request is one Query of the user's jobs (a few a day, kept EXPORT_KEPT_DAYS) and one
transaction: the job's Put and the marker's Put, conditional on no fresh marker, so two
concurrent requests never both start. The worker's finish is an Update and a Delete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from dynamotalk.adapters.dynamodb.table import Table, cancellation_reasons, error_code
from dynamotalk.domain.export import (
    EXPORT_KEPT_DAYS,
    EXPORT_STALE_S,
    ExportJob,
    ExportStatus,
)
from dynamotalk.tables import keys as k
from dynamotalk.tables.codecs import dump

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _job(item: dict[str, Any]) -> ExportJob:
    finished = item.get("finished_at")
    return ExportJob(
        user_id=str(item["PK"]).removeprefix(k.USER_PREFIX),
        export_id=str(item["SK"]).removeprefix(k.EXPORT_PREFIX),
        status=ExportStatus(str(item["status"])),
        created_at=int(item["created_at"]),
        finished_at=int(finished) if finished is not None else None,
    )


@attrs.define
class DynamoExportJobs:
    client: DynamoDBClient
    table_name: str
    table: Table = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.table = Table(self.client, self.table_name)

    def start(self, job: ExportJob, now_ms: int) -> bool:
        pk = k.user_pk(job.user_id)
        marker = {
            "PK": pk,
            "SK": k.EXPORT_RUNNING,
            "export_id": job.export_id,
            "started_at": now_ms,
            "expires_at": now_ms // 1000 + EXPORT_STALE_S,
        }
        item = {
            "PK": pk,
            "SK": k.EXPORT_PREFIX + job.export_id,
            "status": str(job.status),
            "created_at": job.created_at,
            "expires_at": job.created_at // 1000 + EXPORT_KEPT_DAYS * 86_400,
        }
        guard: Any = {
            "Put": {
                "TableName": self.table_name,
                "Item": dump(marker),
                "ConditionExpression": "attribute_not_exists(PK) OR started_at < :stale",
                "ExpressionAttributeValues": {":stale": {"N": str(now_ms - EXPORT_STALE_S * 1000)}},
            }
        }
        try:
            self.table.transact([guard, self.table.transact_put(item)])
        except ClientError as error:
            if "ConditionalCheckFailed" in cancellation_reasons(error):
                return False
            raise
        return True

    def jobs_of(self, user_id: str) -> list[ExportJob]:
        items = self.table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": k.user_pk(user_id)},
                ":prefix": {"S": k.EXPORT_PREFIX},
            },
        )
        return [_job(item) for item in items]

    def get(self, user_id: str, export_id: str) -> ExportJob | None:
        item = self.table.get(k.user_pk(user_id), k.EXPORT_PREFIX + export_id)
        return _job(item) if item is not None else None

    def finish(self, user_id: str, export_id: str, status: ExportStatus, at: int) -> None:
        pk = k.user_pk(user_id)
        try:
            self.table.update_item(
                pk,
                k.EXPORT_PREFIX + export_id,
                UpdateExpression="SET #s = :s, finished_at = :at",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": str(status)}, ":at": {"N": str(at)}},
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
        try:  # release the marker only if it is this job's
            self.table.delete_item(
                pk,
                k.EXPORT_RUNNING,
                ConditionExpression="export_id = :id",
                ExpressionAttributeValues={":id": {"S": export_id}},
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
