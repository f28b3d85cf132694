"""The export archives on S3 (export_ports.ArchiveStore): one JSON object per job under
`exports/{user}/{export}.json` in the attachments bucket, which a lifecycle rule expires after
EXPORT_KEPT_DAYS; read by its owner through a presigned GET (SigV4, `expires_in` seconds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CONTENT_TYPE = "application/json"


@attrs.define
class S3Archives:
    client: S3Client
    bucket: str

    def put_archive(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=CONTENT_TYPE)

    def archive_url(self, key: str, expires_in: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": 'attachment; filename="dynamotalk-export.json"',
            },
            ExpiresIn=expires_in,
        )
        return url
