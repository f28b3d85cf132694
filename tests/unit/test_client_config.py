"""config.json's `actions`: the web client's WebSocket action names are the routed ones, and
the client's sources spell none of them."""

from __future__ import annotations

import re
from pathlib import Path

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
