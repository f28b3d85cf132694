"""Attachments follow their message's retention (issue 18) by S3 lifecycle rules.

DynamoDB's TTL removes a message; its files live in S3, which has no TTL per object but
lifecycle rules that expire objects by tag (AWS docs "Lifecycle configuration elements",
Filter/Tag; "Expiring objects"). When a message references an upload, the server retags it
(upload_expiry.py's PutObjectTagging, the same call) with REFERENCED_TAG and, when the message
has a retention, `retention_tag(days)`. The attachments bucket has one rule per retention
choice (`rules()`), which infra/storage_web.py creates.

S3 counts a rule's days from the object's creation (the upload, a little before the post) and
rounds up to the next midnight UTC, so each rule waits one day more than its retention
(EXPIRY_MARGIN_DAYS): a file never goes before its message, and at most about two days after.
A retention change of the room applies to files of messages posted after it, as to messages.
Avatars are referenced without a retention tag: a profile does not expire.
"""

from __future__ import annotations

from dynamotalk.domain.retention import RETENTION_CHOICES_DAYS

RETENTION_TAG_KEY = "dynamotalk-retention"
"""The tag key; its value is `{days}d` (one rule per value)."""
EXPIRY_MARGIN_DAYS = 1
"""Days a file outlives its message at least (the upload comes before the post)."""


def retention_tag(days: int) -> tuple[str, str]:
    """(key, value) of the tag a referenced file of a `days`-day message carries."""
    return RETENTION_TAG_KEY, f"{days}d"


def rules() -> list[tuple[str, tuple[str, str], int]]:
    """Each lifecycle rule: (rule id, the tag it matches, days after creation it expires)."""
    return [
        (f"expire-retention-{days}d", retention_tag(days), days + EXPIRY_MARGIN_DAYS)
        for days in RETENTION_CHOICES_DAYS
        if days
    ]
