"""Uploads that no message or profile references expire.

A browser upload is a presigned POST: nothing stops a user uploading and never sending, so
every upload starts tagged `UNREFERENCED_TAG` (the form's `tagging` field, covered by the POST
policy, so the browser cannot drop it). Sending a message with the file, or setting it as one's
avatar, retags it `REFERENCED_TAG` (PutObjectTagging) before the message or profile is
stored. The attachments bucket's lifecycle rule (infra/storage_web.py) expires objects still
tagged after UNREFERENCED_EXPIRY_DAYS. Read by the S3 adapter, the Pulumi program and the local
stack, which keeps the tags (moto ignores a POST's `tagging` field) but runs no lifecycle.

Why a tag and not a prefix that is moved on reference: S3 has no rename, so moving means a copy
and a delete (double the writes, and a window where the key a message names does not exist);
a tag changes in place, and a lifecycle rule can filter on it (AWS docs "Lifecycle
configuration elements", Filter/Tag).
"""

from __future__ import annotations

UNREFERENCED_TAG = ("dynamotalk-upload", "unreferenced")
"""(key, value) of the tag an upload carries until a message or profile references it."""
REFERENCED_TAG = ("dynamotalk-upload", "referenced")
"""What referencing sets instead: same key, so the rule's key-and-value filter no longer
matches. (A tag, not an empty tag set: moto cannot parse an empty TagSet.)"""
UNREFERENCED_EXPIRY_DAYS = 2
"""S3 expires a still-tagged upload this many days after it was made (rounded up to the next
midnight UTC), so a file attached to a draft survives at least 48 hours."""
LIFECYCLE_RULE_ID = "expire-unreferenced-uploads"


def unreferenced_tagging() -> str:
    """The POST form's `tagging` field: S3's Tagging XML with the one tag."""
    # Imported here: xml.sax.saxutils imports urllib.request, ~10 ms of every cold start.
    from xml.sax.saxutils import escape

    key, value = (escape(part) for part in UNREFERENCED_TAG)
    return f"<Tagging><TagSet><Tag><Key>{key}</Key><Value>{value}</Value></Tag></TagSet></Tagging>"
