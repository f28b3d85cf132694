"""IAM, enforced in the local stack: each AWS call a handler makes is checked against the policy
document its function's role gets in the cloud (dynamotalk.permissions, the builder the Pulumi
program deploys), with IAM's evaluation rules, before the call leaves the process.

evaluation.py decides, stage.py holds the local stage's identity and documents, requests.py
maps an API call to IAM requests, denial.py answers a refusal as AWS does, and enforce.py
hooks the checks into botocore (on import).
"""

from dynamotalk.local.iam.denial import Denial
from dynamotalk.local.iam.enforce import (
    denials,
    enforce_iam,
    enforcing,
    install,
    served_without_credentials,
)
from dynamotalk.local.iam.evaluation import Decision, action_matches, evaluate, resource_matches
from dynamotalk.local.iam.requests import Request, requests_for
from dynamotalk.local.iam.stage import (
    LOCAL_ACCOUNT,
    LOCAL_API_ID,
    LocalAccount,
    StagePolicies,
    stage_policies,
)

__all__ = [
    "LOCAL_ACCOUNT",
    "LOCAL_API_ID",
    "Decision",
    "Denial",
    "LocalAccount",
    "Request",
    "StagePolicies",
    "action_matches",
    "denials",
    "enforce_iam",
    "enforcing",
    "evaluate",
    "install",
    "requests_for",
    "resource_matches",
    "served_without_credentials",
    "stage_policies",
]
