"""Export my data (issue 18): the export queue POST /me/exports feeds, its dead letters,
data_export's event source, and the bucket's lifecycle rule for archives.

    http_api --SendMessage--> export queue --> data_export --PutObject--> exports/{user}/{id}.json
                                   |                                        (expired after
                                   +--(EXPORT_MAX_RECEIVES)--> export DLQ    EXPORT_KEPT_DAYS)
                                                                (alarm)

On every stage: a job costs nothing until someone asks (docs/ARCHITECTURE.md, "Data export").
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from dynamotalk.domain.export import EXPORT_KEPT_DAYS, EXPORTS_PREFIX
from dynamotalk.routes import FUNCTION_BY_MODULE
from dynamotalk.workers import DATA_EXPORT, EXPORT_DLQ, EXPORT_MAX_RECEIVES, EXPORT_QUEUE
from infra import queues
from infra.functions import LambdaFunction
from infra.settings import StageSettings

WORKER = FUNCTION_BY_MODULE[DATA_EXPORT]
LIFECYCLE_RULE_ID = "expire-exports"


def archive_rule() -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    """The attachments bucket's rule for archives: gone EXPORT_KEPT_DAYS after creation (S3
    counts from the object's creation, rounded to the next midnight UTC)."""
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id=LIFECYCLE_RULE_ID,
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=EXPORTS_PREFIX),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=EXPORT_KEPT_DAYS),
    )


class Export(pulumi.ComponentResource):
    dead_letters: aws.sqs.Queue
    queue: aws.sqs.Queue

    def __init__(
        self, name: str, settings: StageSettings, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("dynamotalk:export:Export", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.dead_letters = queues.dead_letter_queue(
            f"{name}-dead-letters", settings.stage, EXPORT_DLQ, child
        )
        self.queue = queues.work_queue(
            f"{name}-jobs",
            settings.stage,
            EXPORT_QUEUE,
            WORKER,
            self.dead_letters,
            EXPORT_MAX_RECEIVES,
            child,
        )

    def consume(self, worker: LambdaFunction) -> None:
        """Wire the export queue to data_export."""
        child = pulumi.ResourceOptions(parent=self)
        queues.consume(f"{self._name}-worker", self.queue, worker.mapping_target, WORKER, child)
        self.register_outputs(
            {"exportQueueUrl": self.queue.url, "exportDlqName": self.dead_letters.name}
        )
