"""Web Push (issue 18): the push queue the fan-out feeds, its dead letters, push_sender's event
source, and the stage's VAPID key.

    fanout --SendMessageBatch--> push queue --> push_sender --POST--> browsers' push services
                                     |
                                     +--(PUSH_MAX_RECEIVES receives)--> push DLQ (alarm)

The VAPID key pair is made by Pulumi (`tls.PrivateKey`, ECDSA P-256) and lives in the stack's
encrypted state and an SSM SecureString parameter (the AWS managed key aws/ssm), which
push_sender alone may read (ssm:GetParameter on that ARN); it is never committed. Its public
half, base64url, reaches browsers through GET /push/key (http_api's environment). Only on a
stage with `push` on; elsewhere none of this exists and the fan-out queues nothing.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

from dynamotalk.routes import FUNCTION_BY_MODULE, vapid_parameter_name
from dynamotalk.workers import PUSH_DLQ, PUSH_MAX_RECEIVES, PUSH_QUEUE, PUSH_SENDER
from infra import queues
from infra.functions import LambdaFunction
from infra.settings import StageSettings

SENDER = FUNCTION_BY_MODULE[PUSH_SENDER]


def public_key_b64(pem: str | None) -> str:
    """The public key as browsers take it (`applicationServerKey`): the uncompressed P-256
    point, base64url without padding. Empty until the key exists (a preview, the mocks)."""
    if not pem:
        return ""
    import base64

    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(pem.encode())
    raw = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Push(pulumi.ComponentResource):
    dead_letters: aws.sqs.Queue
    queue: aws.sqs.Queue
    key: tls.PrivateKey
    parameter: aws.ssm.Parameter
    public_key: pulumi.Output[str]

    def __init__(
        self, name: str, settings: StageSettings, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("dynamotalk:push:Push", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.dead_letters = queues.dead_letter_queue(
            f"{name}-dead-letters", settings.stage, PUSH_DLQ, child
        )
        self.queue = queues.work_queue(
            f"{name}-jobs",
            settings.stage,
            PUSH_QUEUE,
            SENDER,
            self.dead_letters,
            PUSH_MAX_RECEIVES,
            child,
        )
        self.key = tls.PrivateKey(
            f"{name}-vapid-key", algorithm="ECDSA", ecdsa_curve="P256", opts=child
        )
        self.parameter = aws.ssm.Parameter(
            f"{name}-vapid-parameter",
            name=vapid_parameter_name(settings.stage),
            type="SecureString",
            value=self.key.private_key_pem,
            description="VAPID private key (PEM) of Web Push; read by push_sender only",
            opts=child,
        )
        self.public_key = self.key.public_key_pem.apply(public_key_b64)

    def consume(self, sender: LambdaFunction) -> None:
        """Wire the push queue to push_sender."""
        child = pulumi.ResourceOptions(parent=self)
        queues.consume(f"{self._name}-worker", self.queue, sender.mapping_target, SENDER, child)
        self.register_outputs(
            {"pushQueueUrl": self.queue.url, "pushDlqName": self.dead_letters.name}
        )
