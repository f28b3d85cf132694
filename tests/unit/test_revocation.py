"""Reading the user out of a revoking Cognito call's CloudTrail event (revocation.py)."""

from __future__ import annotations

from dynamotalk.revocation import HIDDEN, REVOKING_CALLS, cloudtrail_event, revoked_user


def event(call: str, sub: str | None, username: str | None) -> dict[str, object]:
    return cloudtrail_event(
        call, "us-east-1", "123456789012", "us-east-1_pool", sub, username, "e-1",
        "2026-11-27T10:00:00Z",
    )  # fmt: skip


def test_every_revoking_call_names_its_user_by_sub_or_username() -> None:
    for call in REVOKING_CALLS:
        found = revoked_user(event(call, "sub-1", None))
        assert found is not None
        assert (found.sub, found.call) == ("sub-1", call)
    by_name = revoked_user(event("AdminDisableUser", None, "mallory"))
    assert by_name is not None
    assert (by_name.username, by_name.sub) == ("mallory", None)
    assert by_name.user_pool_id == "us-east-1_pool"


def test_events_that_name_no_user_or_failed_or_other_calls_revoke_nothing() -> None:
    assert revoked_user(event("GlobalSignOut", None, None)) is None  # token only, no user
    hidden = event("AdminDisableUser", None, None)
    hidden["detail"]["requestParameters"]["username"] = HIDDEN  # type: ignore[index]
    assert revoked_user(hidden) is None
    failed = event("AdminDisableUser", "sub-1", "mallory")
    failed["detail"]["errorCode"] = "UserNotFoundException"  # type: ignore[index]
    assert revoked_user(failed) is None
    assert revoked_user(event("AdminEnableUser", "sub-1", "mallory")) is None
    assert revoked_user({"detail": "junk"}) is None
    assert revoked_user({}) is None
