"""config.json's `actions`: the web client's WebSocket action names are the routed ones, and
the client's sources spell none of them."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path
from typing import Any

from dynamotalk import routes
from dynamotalk.routes import CLIENT_ACTIONS as ACTIONS

WEB = Path(__file__).resolve().parents[2] / "web"
SENDS = re.compile(r"""\baction\s*(?::|===?)\s*["'`]""")
"""`{action: "…"}` or `frame.action === "…"`: an action name written in the client."""


def test_config_actions_are_the_routed_actions() -> None:
    assert sorted(ACTIONS.values()) == sorted(routes.WS_ACTIONS)
    for name, action in ACTIONS.items():
        assert routes.WS_ACTIONS[action].__name__ == name


def test_config_actions_are_named_by_command_class() -> None:
    assert set(ACTIONS) == {
        "SendMessage",
        "EditMessage",
        "DeleteMessage",
        "React",
        "TypingCommand",
        "Subscribe",
        "Unsubscribe",
        "Sync",
        "MarkRead",
        "Ping",
        "Reauth",
    }


def test_the_web_client_takes_every_action_name_from_config() -> None:
    scripts = sorted(WEB.glob("**/*.js"))
    assert scripts
    for script in scripts:
        source = script.read_text()
        assert not SENDS.search(source), script.name
        # "typing" is also the type of the server's typing event, which the client may name.
        for action in set(routes.WS_ACTIONS) - {"typing"}:
            assert f'"{action}"' not in source, (script, action)
            assert f"'{action}'" not in source, (script, action)
    assert "actions.SendMessage" in "".join(s.read_text() for s in scripts)


def test_config_publishes_the_room_change_types_and_the_permission_table() -> None:
    from dynamotalk.domain import events as ev
    from dynamotalk.domain.authz import LOWEST_ROLE, Act
    from dynamotalk.domain.models import Role, RoomKind
    from dynamotalk.stage_config import stage_config
    from dynamotalk.wire import EVENT_TYPE

    config = stage_config(
        ws_url="ws://x", http_url="http://x", cognito_url="http://x", region="r",
        user_pool_id="p", user_pool_client_id="c", stage="s", max_message_chars=10,
        min_password=8,
    )  # fmt: skip
    changes = {EVENT_TYPE[t] for t in typing.get_args(ev.RoomChange)}
    assert set(config["changeTypes"]) == changes  # type: ignore[arg-type]
    assert {"room.updated", "message.pinned", "message.unpinned"} <= changes
    permissions: Any = config["permissions"]
    assert permissions["roles"] == {"owner": 3, "admin": 2, "moderator": 1, "member": 0}
    for act in Act:
        for kind in RoomKind:
            lowest = LOWEST_ROLE[act][kind]
            assert permissions["lowestRole"][act.value][kind.value] == (lowest and lowest.value)
    assert Role.MODERATOR.value in permissions["lowestRole"]["mute"].values()
    json.dumps(config)


def test_the_web_client_takes_the_room_change_types_from_config() -> None:
    # No list of change types in the client: the feed follows config.json `changeTypes`.
    from dynamotalk.domain.events import ROOM_CHANGE_TYPES

    for script in sorted(WEB.glob("**/*.js")):
        for listed in re.findall(r"\[[^\[\]]*\]", script.read_text()):
            spelled = [name for name in ROOM_CHANGE_TYPES if f'"{name}"' in listed]
            assert len(spelled) < 2, (script.name, listed)
    assert "changeTypes.has(frame.type)" in (WEB / "feed.js").read_text()
