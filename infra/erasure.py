"""Erase my account (issue 18): the erasure queue DELETE /me feeds, its dead letters (with an
alarm, program.py's dead_letter_queues), and account_erasure's event source.

    http_api --SendMessage--> erasure queue --> account_erasure --(bounded part done,
                                   ^                  |           more to do)--+
                                   +------------------+-- SendMessage ---------+
                                   |
                                   +--(ERASURE_MAX_RECEIVES receives)--> erasure DLQ (alarm)

A job that fails is received again (its item says what is done, so it resumes); after
ERASURE_MAX_RECEIVES it waits in the DLQ, where the operator redrives it (docs/DEPLOY.md).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from dynamotalk.routes import FUNCTION_BY_MODULE
from dynamotalk.workers import ACCOUNT_ERASURE, ERASURE_DLQ, ERASURE_MAX_RECEIVES, ERASURE_QUEUE
from infra import queues
from infra.functions import LambdaFunction
from infra.settings import StageSettings

WORKER = FUNCTION_BY_MODULE[ACCOUNT_ERASURE]


class Erasure(pulumi.ComponentResource):
    dead_letters: aws.sqs.Queue
    queue: aws.sqs.Queue

    def __init__(
        self, name: str, settings: StageSettings, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("dynamotalk:erasure:Erasure", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.dead_letters = queues.dead_letter_queue(
            f"{name}-dead-letters", settings.stage, ERASURE_DLQ, child
        )
        self.queue = queues.work_queue(
            f"{name}-jobs",
            settings.stage,
            ERASURE_QUEUE,
            WORKER,
            self.dead_letters,
            ERASURE_MAX_RECEIVES,
            child,
        )

    def consume(self, worker: LambdaFunction) -> None:
        """Wire the erasure queue to account_erasure."""
        child = pulumi.ResourceOptions(parent=self)
        queues.consume(f"{self._name}-worker", self.queue, worker.mapping_target, WORKER, child)
        self.register_outputs(
            {"erasureQueueUrl": self.queue.url, "erasureDlqName": self.dead_letters.name}
        )
