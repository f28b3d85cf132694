"""Storage and web: the private attachments bucket, and the web client on a private bucket
behind CloudFront (origin access control) with a generated config.json.

Order matters: the distribution comes first (its domain is an allowed browser origin of the
HTTP API and the attachments bucket), config.json last (it names the APIs' URLs)."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

import pulumi
import pulumi_aws as aws

from dynamotalk import attachment_retention, upload_expiry, webheaders
from dynamotalk.origins import allowed_origins
from dynamotalk.routes import resource_name
from infra import export
from infra.settings import StageSettings

WEB = Path(__file__).resolve().parents[1] / "web"
CONFIG_KEY = "config.json"
"""Generated from the stage's outputs; a web/config.json (the local stack's) is not uploaded."""
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
}
"""Fixed here rather than from the machine's mime.types, so every machine uploads the same."""


def content_type(key: str) -> str:
    """The Content-Type a browser needs for a web/ file."""
    suffix = PurePosixPath(key).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def bucket_name(stage: str, purpose: str, account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """S3 names are global: `dynamotalk-{stage}-{purpose}-{account}` cannot clash with others'."""
    return pulumi.Output.concat("dynamotalk-", stage, "-", purpose, "-", account_id)


def private_bucket(
    name: str, physical_name: pulumi.Input[str], settings: StageSettings, parent: pulumi.Resource
) -> aws.s3.Bucket:
    """A bucket nobody reaches without IAM: public access blocked, owner-enforced, encrypted.

    Unprotected stages (dev) may be destroyed with their uploads; protected ones keep them.
    """
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(
        name,
        bucket=physical_name,
        force_destroy=not settings.deletion_protection,
        opts=pulumi.ResourceOptions(parent=parent, protect=settings.deletion_protection),
    )
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
    """Files and avatars: browsers upload with presigned POSTs, read with presigned GETs."""

    bucket: aws.s3.Bucket

    def __init__(
        self,
        name: str,
        settings: StageSettings,
        account_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:storage:Attachments", name, None, opts)
        self.bucket = private_bucket(
            f"{name}-bucket", bucket_name(settings.stage, "attachments", account_id), settings, self
        )
        child = pulumi.ResourceOptions(parent=self)
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
                ),
                # Uploads no message or profile references (still tagged, upload_expiry.py).
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=upload_expiry.LIFECYCLE_RULE_ID,
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
                        tag=aws.s3.BucketLifecycleConfigurationRuleFilterTagArgs(
                            key=upload_expiry.UNREFERENCED_TAG[0],
                            value=upload_expiry.UNREFERENCED_TAG[1],
                        )
                    ),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=upload_expiry.UNREFERENCED_EXPIRY_DAYS
                    ),
                ),
                # Files of messages with a retention, one rule per choice (issue 18).
                *(
                    aws.s3.BucketLifecycleConfigurationRuleArgs(
                        id=rule_id,
                        status="Enabled",
                        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
                            tag=aws.s3.BucketLifecycleConfigurationRuleFilterTagArgs(
                                key=tag_key, value=tag_value
                            )
                        ),
                        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
                    )
                    for rule_id, (tag_key, tag_value), days in attachment_retention.rules()
                ),
                export.archive_rule(),  # "export my data" archives (issue 18, infra/export.py)
            ],
            opts=child,
        )
        self.register_outputs({"bucketName": self.bucket.bucket})

    def allow_browsers(self, origins: pulumi.Input[list[str]]) -> aws.s3.BucketCorsConfiguration:
        """Let pages from `origins` upload (presigned POST) and read (presigned GET)."""
        return aws.s3.BucketCorsConfiguration(
            f"{self._name}-cors",
            bucket=self.bucket.id,
            cors_rules=[
                aws.s3.BucketCorsConfigurationCorsRuleArgs(
                    allowed_methods=["GET", "POST", "HEAD"],
                    allowed_origins=origins,
                    allowed_headers=["*"],
                    max_age_seconds=3000,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )


class Web(pulumi.ComponentResource):
    """The static web client: a private bucket read only by this stage's CloudFront."""

    bucket: aws.s3.Bucket
    distribution: aws.cloudfront.Distribution

    def __init__(
        self,
        name: str,
        settings: StageSettings,
        account_id: pulumi.Input[str],
        content_security_policy: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:web:Web", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = private_bucket(
            f"{name}-bucket", bucket_name(settings.stage, "web", account_id), settings, self
        )
        self.headers = security_headers_policy(
            f"{name}-headers", settings.stage, content_security_policy, self
        )
        access = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            name=resource_name(settings.stage, "web"),
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
                response_headers_policy_id=self.headers.id,
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
        for key, path in web_files().items():
            aws.s3.BucketObjectv2(
                f"{name}-file-{key}",
                bucket=self.bucket.id,
                key=key,
                source=pulumi.FileAsset(str(path)),
                content_type=content_type(key),
                opts=child,
            )
        self.url = pulumi.Output.concat("https://", self.distribution.domain_name)
        served = [
            self.url,
            *([f"https://{settings.custom_domain}"] if settings.custom_domain else []),
        ]
        self.allowed_origins: pulumi.Output[list[str]] = pulumi.Output.all(*served).apply(
            lambda urls: allowed_origins(urls, settings.cors_origins)
        )
        """Where the browser may call from: the client's own origins, then corsOrigins."""
        self.register_outputs({"webUrl": self.url})

    def publish_config(self, config: Mapping[str, object]) -> aws.s3.BucketObjectv2:
        """config.json beside index.html: the stage's URLs and ids (some still pulumi Outputs)
        and the WebSocket action names, read by the client."""
        return aws.s3.BucketObjectv2(
            f"{self._name}-config",
            bucket=self.bucket.id,
            key=CONFIG_KEY,
            content=pulumi.Output.json_dumps(config),
            content_type="application/json",
            cache_control="no-cache",
            opts=pulumi.ResourceOptions(parent=self),
        )


def security_headers_policy(
    name: str, stage: str, content_security_policy: pulumi.Input[str], parent: pulumi.Resource
) -> aws.cloudfront.ResponseHeadersPolicy:
    """The headers of dynamotalk/webheaders.py on every response of the distribution, replacing
    any the origin sent (`override`): the local stack's web origin serves the same set."""
    return aws.cloudfront.ResponseHeadersPolicy(
        name,
        name=resource_name(stage, "web-security"),
        comment="DynamoTalk web client: CSP without inline code, HSTS, no framing, nosniff",
        security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
            content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
                content_security_policy=content_security_policy, override=True
            ),
            strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                access_control_max_age_sec=webheaders.HSTS_MAX_AGE_S,
                include_subdomains=webheaders.HSTS_INCLUDE_SUBDOMAINS,
                preload=False,
                override=True,
            ),
            content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                override=True
            ),
            frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                frame_option=webheaders.FRAME_OPTIONS, override=True
            ),
            referrer_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                referrer_policy=webheaders.REFERRER_POLICY, override=True
            ),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def web_files(root: Path = WEB) -> dict[str, Path]:
    """Key -> file for everything under web/ (none if it does not exist yet), sorted."""
    if not root.is_dir():
        return {}
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    keys = {path.relative_to(root).as_posix(): path for path in files}
    keys.pop(CONFIG_KEY, None)
    return {k: v for k, v in keys.items() if not PurePosixPath(k).name.startswith(".")}
