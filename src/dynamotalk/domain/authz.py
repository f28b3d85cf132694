"""Who may do what in a room: the one permission table every check goes through.

A room action (`Act`) is allowed to a member whose role is at least the action's lowest role
for the room's kind; `None` there means nobody may do it in rooms of that kind (a direct room
has two equal members and no moderation). Acting on another member (kick, ban, mute, changing
their role) also needs a role above theirs (`outranks`), and a role can only be given up to the
giver's own (an owner may make another owner; an admin at most a moderator).

State is checked beside the table, not in it: a muted member, an archived room and slow mode
refuse posting whatever the role (service code says which); reading a room is `rules.can_read`.
The authorization matrix tests (tests/authz/) are generated from `LOWEST_ROLE`, so a change
here changes what is tested.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from dynamotalk.domain.errors import Forbidden
from dynamotalk.domain.models import Membership, Role, RoomKind


class Act(enum.StrEnum):
    """What a member may be allowed to do in a room."""

    POST = "post"
    REACT = "react"
    INVITE = "invite"
    REMOVE = "remove"
    """Remove (kick) another member."""
    BAN = "ban"
    MUTE = "mute"
    DELETE_OTHERS = "deleteOthers"
    """Delete another member's message (recorded in the audit log)."""
    PIN = "pin"
    SLOW_MODE = "slowMode"
    CHANGE_ROLES = "changeRoles"
    RENAME = "rename"
    ARCHIVE = "archive"
    MENTION_ALL = "mentionAll"
    """`@room` / `@here`: notify every member."""
    REPORT = "report"
    """Put a message in the room's moderation queue."""
    MODERATE = "moderate"
    """Read the room's audit log and moderation queue, and resolve reports."""
    SLOW_MODE_EXEMPT = "slowModeExempt"
    """Post without waiting for slow mode's interval."""
    BAN_LIST = "banList"
    """See who is banned from the room."""
    RETENTION = "retention"
    """Set how long the room keeps new messages (issue 18, domain/retention.py)."""


_ANY = Role.MEMBER
_PUBLIC, _PRIVATE, _DIRECT = RoomKind.PUBLIC, RoomKind.PRIVATE, RoomKind.DIRECT


def _rooms(
    public: Role | None, private: Role | None, direct: Role | None
) -> dict[RoomKind, Role | None]:
    return {_PUBLIC: public, _PRIVATE: private, _DIRECT: direct}


LOWEST_ROLE: Mapping[Act, Mapping[RoomKind, Role | None]] = {
    Act.POST: _rooms(_ANY, _ANY, _ANY),
    Act.REACT: _rooms(_ANY, _ANY, _ANY),
    # Anyone may bring people to a public room (they could join anyway); private rooms are
    # curated by their admins.
    Act.INVITE: _rooms(_ANY, Role.ADMIN, None),
    Act.REMOVE: _rooms(Role.MODERATOR, Role.MODERATOR, None),
    Act.BAN: _rooms(Role.MODERATOR, Role.MODERATOR, None),
    Act.MUTE: _rooms(Role.MODERATOR, Role.MODERATOR, None),
    Act.DELETE_OTHERS: _rooms(Role.MODERATOR, Role.MODERATOR, None),
    Act.PIN: _rooms(Role.MODERATOR, Role.MODERATOR, _ANY),
    Act.SLOW_MODE: _rooms(Role.MODERATOR, Role.MODERATOR, None),
    Act.CHANGE_ROLES: _rooms(Role.ADMIN, Role.ADMIN, None),
    Act.RENAME: _rooms(Role.ADMIN, Role.ADMIN, None),
    Act.ARCHIVE: _rooms(Role.ADMIN, Role.ADMIN, None),
    # In a small private room everyone may call everyone; a public room's crowd is called by
    # its moderators only. In a direct room there is nobody else to call.
    Act.MENTION_ALL: _rooms(Role.MODERATOR, _ANY, None),
    # A direct room has no moderators to read a report: block the other member instead.
    Act.REPORT: _rooms(_ANY, _ANY, None),
    Act.MODERATE: _rooms(Role.ADMIN, Role.ADMIN, None),
    # Those who set slow mode do not wait for it; a direct room has no slow mode.
    Act.SLOW_MODE_EXEMPT: _rooms(Role.MODERATOR, Role.MODERATOR, None),
    # Those who ban see whom they banned (and lift it).
    Act.BAN_LIST: _rooms(Role.MODERATOR, Role.MODERATOR, None),
    # Those who rename and archive the room decide how long it keeps what is said in it.
    Act.RETENTION: _rooms(Role.ADMIN, Role.ADMIN, None),
}
"""Act -> room kind -> the lowest role allowed (None: nobody). Every Act has every kind."""

ON_OTHERS: frozenset[Act] = frozenset({Act.REMOVE, Act.BAN, Act.MUTE, Act.CHANGE_ROLES})
"""Acts done to another member: the actor must also outrank them."""


def may(role: Role, act: Act, kind: RoomKind) -> bool:
    """Whether a member with `role` may `act` in a room of `kind` (the table alone)."""
    lowest = LOWEST_ROLE[act][kind]
    return lowest is not None and role.rank >= lowest.rank


def outranks(actor: Role, target: Role) -> bool:
    """Whether `actor` may act on a member holding `target` (strictly higher; owners on owners
    never: an owner leaves or hands over, nobody removes them)."""
    return actor.rank > target.rank


def keeps_room(role: Role) -> bool:
    """Whether a member holding `role` keeps the room owned: while one such member is left,
    an owner leaving hands nothing over (service/membership.py)."""
    return role is Role.OWNER


def may_lift(actor: Role, banner: Role) -> bool:
    """Whether `actor` may undo a sanction `banner` placed (a ban): at least the banner's rank,
    so a moderator cannot lift an admin's ban (the banned user, no longer a member, has no
    rank to compare)."""
    return actor.rank >= banner.rank


def may_give(actor: Role, role: Role) -> bool:
    """Whether `actor` may give `role` to someone: up to their own rank, except that only an
    owner makes owners and an admin makes at most moderators."""
    if actor is Role.OWNER:
        return True
    return actor.rank > role.rank


_REFUSAL: Mapping[Act, str] = {
    Act.POST: "you may not post in this room",
    Act.REACT: "you may not react in this room",
    Act.INVITE: "you may not invite people to this room",
    Act.REMOVE: "you may not remove members of this room",
    Act.BAN: "you may not ban members of this room",
    Act.MUTE: "you may not mute members of this room",
    Act.DELETE_OTHERS: "only the author or a moderator may delete a message",
    Act.PIN: "you may not pin messages in this room",
    Act.SLOW_MODE: "you may not set slow mode in this room",
    Act.CHANGE_ROLES: "you may not change roles in this room",
    Act.RENAME: "you may not rename this room",
    Act.ARCHIVE: "you may not archive this room",
    Act.MENTION_ALL: "you may not mention everyone in this room",
    Act.REPORT: "messages of this room cannot be reported",
    Act.MODERATE: "only the room's admins may see its moderation",
    Act.SLOW_MODE_EXEMPT: "slow mode applies to you in this room",
    Act.BAN_LIST: "only the room's moderators may see its bans",
    Act.RETENTION: "you may not set this room's retention",
}


def require(membership: Membership | None, act: Act, kind: RoomKind) -> Membership:
    """The caller's membership if its role may `act` in a room of `kind`; Forbidden otherwise
    (the caller already knows the room exists: check reading first)."""
    if membership is None:
        raise Forbidden("you are not a member of this room")
    if not may(membership.role, act, kind):
        raise Forbidden(_REFUSAL[act])
    return membership


def require_over(actor: Membership, act: Act, kind: RoomKind, target: Membership) -> None:
    """`require` for an act on another member: the table, then rank over the target."""
    require(actor, act, kind)
    if not outranks(actor.role, target.role):
        raise Forbidden(f"your role ({actor.role}) is not above theirs ({target.role})")


def require_give(actor: Membership, kind: RoomKind, target: Membership, role: Role) -> None:
    """Changing `target`'s role to `role`: CHANGE_ROLES over the target, and `role` within
    what the actor may give."""
    require_over(actor, Act.CHANGE_ROLES, kind, target)
    if not may_give(actor.role, role):
        raise Forbidden(f"your role ({actor.role}) may not make someone {role}")
