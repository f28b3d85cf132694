"""Storage and web: the private attachments bucket, and the web client on a private bucket
behind CloudFront (origin access control) with a generated config.json."""

from __future__ import annotations

import mimetypes
from pathlib import Path

import pulumi
import pulumi_aws as aws

from infra.settings import StageSettings

WEB = Path(__file__).resolve().parents[1] / "web"


def private_bucket(name: str, bucket_name: str, parent: pulumi.Resource) -> aws.s3.Bucket:
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(name, bucket=bucket_name, force_destroy=False, opts=child)
    aws.s3.BucketPublicAccessBlock(
        f"{name}-no-public",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-owner",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-sse",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                )
            )
        ],
        opts=child,
    )
    return bucket


class Attachments(pulumi.ComponentResource):
    bucket: aws.s3.Bucket

    def __init__(
        self, name: str, settings: StageSettings, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("dynamotalk:storage:Attachments", name, None, opts)
        self.bucket = private_bucket(
            f"{name}-bucket", f"dynamotalk-{settings.stage}-attachments", self
        )
        child = pulumi.ResourceOptions(parent=self)
        aws.s3.BucketCorsConfiguration(
            f"{name}-cors",
            bucket=self.bucket.id,
            cors_rules=[
                aws.s3.BucketCorsConfigurationCorsRuleArgs(
                    allowed_methods=["GET", "POST", "HEAD"],
                    allowed_origins=list(settings.cors_origins),
                    allowed_headers=["*"],
                    max_age_seconds=3000,
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-uploads",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=1
                    ),
                )
            ],
            opts=child,
        )
        self.register_outputs({"bucketName": self.bucket.bucket})


class Web(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    distribution: aws.cloudfront.Distribution

    def __init__(
        self,
        name: str,
        settings: StageSettings,
        config: pulumi.Input[dict[str, pulumi.Input[str]]],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:web:Web", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = private_bucket(f"{name}-bucket", f"dynamotalk-{settings.stage}-web", self)
        access = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            name=f"dynamotalk-{settings.stage}-web",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        aliases = [settings.custom_domain] if settings.custom_domain else []
        certificate = (
            aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=settings.certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021",
            )
            if settings.custom_domain
            else aws.cloudfront.DistributionViewerCertificateArgs(
                cloudfront_default_certificate=True
            )
        )
        self.distribution = aws.cloudfront.Distribution(
            f"{name}-cdn",
            enabled=True,
            default_root_object="index.html",
            aliases=aliases,
            origins=[
                aws.cloudfront.DistributionOriginArgs(
                    origin_id="web",
                    domain_name=self.bucket.bucket_regional_domain_name,
                    origin_access_control_id=access.id,
                )
            ],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id="web",
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD"],
                cached_methods=["GET", "HEAD"],
                compress=True,
                # AWS managed policy "CachingOptimized".
                cache_policy_id="658327ea-f89d-4fab-a63d-7e88639e58f6",
            ),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                    restriction_type="none"
                )
            ),
            viewer_certificate=certificate,
            price_class="PriceClass_100",
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "CloudFrontOnly",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject",
                            "Resource": pulumi.Output.concat(self.bucket.arn, "/*"),
                            "Condition": {"StringEquals": {"AWS:SourceArn": self.distribution.arn}},
                        }
                    ],
                }
            ),
            opts=child,
        )
        if WEB.is_dir():
            for path in sorted(p for p in WEB.rglob("*") if p.is_file()):
                key = path.relative_to(WEB).as_posix()
                aws.s3.BucketObjectv2(
                    f"{name}-file-{key}",
                    bucket=self.bucket.id,
                    key=key,
                    source=pulumi.FileAsset(str(path)),
                    content_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                    opts=child,
                )
        aws.s3.BucketObjectv2(
            f"{name}-config",
            bucket=self.bucket.id,
            key="config.json",
            content=pulumi.Output.json_dumps(config),
            content_type="application/json",
            cache_control="no-cache",
            opts=child,
        )
        self.url = pulumi.Output.concat("https://", self.distribution.domain_name)
        self.register_outputs({"webUrl": self.url})
