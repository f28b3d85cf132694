"""The AttachmentStore on S3: presigned POST uploads (size and type enforced by S3 itself),
presigned GET (or CDN URL) downloads. Keys are chosen and scoped by the service. Uploads start
tagged unreferenced and lose the tag when referenced (upload_expiry.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
from botocore.exceptions import ClientError

from dynamotalk.attachment_retention import retention_tag
from dynamotalk.domain.models import UploadForm
from dynamotalk.upload_expiry import REFERENCED_TAG, unreferenced_tagging

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@attrs.define
class S3AttachmentStore:
    client: S3Client
    bucket: str

    def upload_form(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> UploadForm:
        tagging = unreferenced_tagging()
        post = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type, "tagging": tagging},
            Conditions=[
                {"Content-Type": content_type},
                {"tagging": tagging},
                ["content-length-range", 1, max_bytes],
            ],
            ExpiresIn=expires_in,
        )
        return UploadForm(
            url=post["url"],
            fields={str(k): str(v) for k, v in post["fields"].items()},
            key=key,
            max_bytes=max_bytes,
            expires_in=expires_in,
        )

    def download_url(self, key: str, expires_in: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url

    def mark_referenced(self, key: str, retention_days: int = 0) -> None:
        """Replace the unreferenced tag, so the lifecycle rule never expires this object; a
        message's retention tags it for the rule of its days (attachment_retention.py)."""
        tags = [REFERENCED_TAG, *([retention_tag(retention_days)] if retention_days else [])]
        self.client.put_object_tagging(
            Bucket=self.bucket,
            Key=key,
            Tagging={"TagSet": [{"Key": tag, "Value": value} for tag, value in tags]},
        )

    def size_of(self, key: str) -> int | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (403, 404):
                return None
            raise
        return int(head["ContentLength"])
