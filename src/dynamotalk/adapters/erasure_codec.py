"""An erasure job as a table item and back (shared by the DynamoDB store and tests)."""

from __future__ import annotations

from typing import Any

from dynamotalk.domain.erasure import ErasePolicy, ErasureJob, Step
from dynamotalk.tables import keys as k


def job_item(job: ErasureJob) -> dict[str, Any]:
    return {
        "PK": k.erasure_pk(job.user_id),
        "SK": k.ERASURE_SK,
        "erasure_id": job.erasure_id,
        "sign_in": job.sign_in,
        "username": job.username,
        "avatar_key": job.avatar_key,
        "policy": str(job.policy),
        "created_at": job.created_at,
        "steps_done": [str(s) for s in job.steps_done],
        "room_cursor": job.room_cursor,
        "message_cursor": job.message_cursor,
        "rooms": list(job.rooms),
        "seq_cursor": job.seq_cursor,
    }


def job_of(item: dict[str, Any]) -> ErasureJob:
    def text(name: str) -> str | None:
        value = item.get(name)
        return str(value) if value is not None else None

    return ErasureJob(
        user_id=str(item["PK"]).removeprefix(k.ERASURE_PREFIX),
        erasure_id=str(item["erasure_id"]),
        sign_in=str(item["sign_in"]),
        username=str(item["username"]),
        avatar_key=text("avatar_key"),
        policy=ErasePolicy(str(item["policy"])),
        created_at=int(item["created_at"]),
        steps_done=tuple(Step(str(s)) for s in item.get("steps_done") or ()),
        room_cursor=text("room_cursor"),
        message_cursor=text("message_cursor"),
        rooms=tuple(str(r) for r in item.get("rooms") or ()),
        seq_cursor=int(item["seq_cursor"]) if item.get("seq_cursor") is not None else None,
    )
