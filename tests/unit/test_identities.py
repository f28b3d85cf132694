"""Reserved identities, text hygiene and the clients' config check (issue 13: H1, M3, M4)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from dynamotalk.client.api import Api
from dynamotalk.client.chat import Chat
from dynamotalk.client.config import ChatClientError, cognito_url_problem, load_config
from dynamotalk.client.session import Session
from dynamotalk.domain.errors import InvalidInput
from dynamotalk.domain.identities import (
    BOT,
    BOT_DISPLAY_NAME,
    SYSTEM,
    AuthorKind,
    author_kind,
    bot_user,
    is_reserved,
    may_use_name,
    skeleton,
)
from dynamotalk.domain.models import Attachment, RoomKind
from dynamotalk.domain.text import escape_for_terminal, forbidden_character
from tests.unit.world import ALICE, World

CYRILLIC_O, GREEK_OMICRON = "\u043e", "\u03bf"


@pytest.mark.parametrize(
    "name",
    [
        "bot",
        "BOT",
        "Bot",
        "B0T",
        "b.o.t",
        "b_o-t",
        "\uff42\uff4f\uff54",  # full-width
        f"b{CYRILLIC_O}t",
        f"B{GREEK_OMICRON}T",
        "b\u200bot",  # zero-width space inside
        "b\u00f2t",  # accented o
        "admin",
        "ADM1N",
        "adrnin",  # rn reads as m
        "Administrator",
        "r00t",
        "5upport",
        "DynamoTalk",
        "dynamotalk-team",
        "DynamoTalk bot",
        "everyone",
    ],
)
def test_reserved_names_and_their_look_alikes_are_reserved(name: str) -> None:
    assert is_reserved(name)


@pytest.mark.parametrize(
    "name", ["alice", "botanist", "robot", "abbot", "admiral", "bobby", "rooted", "helper", "mods"]
)
def test_ordinary_names_are_free(name: str) -> None:
    assert not is_reserved(name)


def test_the_skeleton_is_stable_under_case_width_and_look_alikes() -> None:
    assert skeleton("B0T") == skeleton("bot") == skeleton("\uff22\uff2f\uff34")
    assert skeleton("alice") != skeleton("bob")


def test_the_stage_may_use_its_own_reserved_names() -> None:
    assert may_use_name(BOT.user_id, BOT_DISPLAY_NAME)
    assert may_use_name(SYSTEM.user_id, SYSTEM.username)
    assert not may_use_name("u-eve", BOT_DISPLAY_NAME)
    assert may_use_name("u-eve", "Eve")


def test_the_author_kind_comes_from_the_author_id_only() -> None:
    assert author_kind(BOT.user_id) is AuthorKind.BOT
    assert author_kind(SYSTEM.user_id) is AuthorKind.SYSTEM
    assert author_kind("u-alice") is AuthorKind.USER
    assert author_kind("bot") is AuthorKind.USER, "the username is not the id"


def test_the_cloud_seeds_the_same_bot_profile_the_local_stack_writes() -> None:
    from infra.bot import bot_items

    profile, claim = bot_items()
    bot = bot_user()
    assert profile["user_id"] == {"S": bot.user_id} == claim["user_id"]
    assert profile["username"] == {"S": BOT.username}
    assert profile["display_name"] == {"S": BOT_DISPLAY_NAME}
    assert claim["PK"] == {"S": f"USERNAME#{BOT.username}"}


@pytest.mark.parametrize(
    "bad", ["\x1b", "\x07", "\r", "\x08", "\x00", "\x7f", "\x85", "\x9b", "\u202e", "\u2066"]
)
def test_controls_and_bidi_characters_are_refused_in_text(bad: str) -> None:
    assert forbidden_character(f"ok{bad}ok") == bad


def test_line_feeds_tabs_and_emoji_sequences_are_kept() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert forbidden_character(f"one\ntwo\tthree {family} \u2764\ufe0f") is None


def test_the_service_refuses_controls_on_every_path(world: World, public_room: str) -> None:
    service = world.service
    text = "hi\x1b]0;owned\x07"
    with pytest.raises(InvalidInput, match="control or bidi"):
        service.post_message(ALICE, public_room, text, "c1")
    attachment = Attachment(
        f"rooms/{public_room}/{ALICE.user_id}/1/a.txt", "a.txt", "text/plain", 1
    )
    with pytest.raises(InvalidInput, match="control or bidi"):
        service.post_message(ALICE, public_room, text, "c2", [attachment])
    posted = service.post_message(ALICE, public_room, "fine", "c3")
    with pytest.raises(InvalidInput, match="control or bidi"):
        service.edit_message(ALICE, public_room, posted.message_id, "x\u202ey")
    with pytest.raises(InvalidInput):
        service.create_room(ALICE, "room\u202e", RoomKind.PUBLIC)
    with pytest.raises(InvalidInput, match="reserved"):
        service.update_profile(ALICE, display_name="B0T")
    assert service.update_profile(ALICE, display_name="Alice A.").display_name == "Alice A."


def test_the_terminal_escape_shows_controls_and_indents_line_breaks() -> None:
    shown = escape_for_terminal("a\x1b[2Jb\u202ec\nd\te", newline="\n    ")
    assert shown == "a\\x1b[2Jb\\u202ec\n    d\te"


def chat(out: io.StringIO) -> Chat:
    session = Session({"wsUrl": "", "httpUrl": "", "userPoolClientId": "", "region": ""}, "me")
    return Chat(api=Api(session), out=out)


def message(author: str, text: str, kind: str = "user") -> dict[str, Any]:
    return {
        "id": "01",
        "roomId": "r",
        "authorId": author,
        "authorKind": kind,
        "text": text,
        "deleted": False,
    }


def test_the_terminal_client_prints_untrusted_text_escaped_and_marks_the_bot() -> None:
    out = io.StringIO()
    client = chat(out)
    client.names.update({"u-eve": "eve", BOT.user_id: "bot"})
    client.print_message(message("u-eve", "hi\x1b[2J\n[lobby] admin: send your password"))
    client.print_message(message(BOT.user_id, "hello", "bot"))
    lines = out.getvalue().splitlines()
    assert "\x1b" not in out.getvalue()
    assert not any(line.startswith("[lobby] admin") for line in lines)
    assert lines[-1] == "[r] bot [bot]: hello  #01"


def config_file(tmp_path: Path, cognito_url: str) -> str:
    path = tmp_path / "config.json"
    config = {
        "wsUrl": "wss://ws.example.com/prod",
        "httpUrl": "https://api.example.com",
        "userPoolClientId": "client",
        "region": "eu-west-1",
        "cognitoUrl": cognito_url,
    }
    path.write_text(json.dumps(config))
    return str(path)


@pytest.mark.parametrize(
    "url",
    [
        "https://cognito-idp.eu-west-1.amazonaws.com/",
        "https://api.example.com/cognito",
    ],
)
def test_a_config_with_cognitos_endpoint_or_its_own_host_is_accepted(
    tmp_path: Path, url: str
) -> None:
    assert load_config(None, config_file(tmp_path, url))["cognitoUrl"] == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://evil.example/", "neither Cognito's endpoint"),
        ("http://cognito-idp.eu-west-1.amazonaws.com/", "plain http"),
        ("https://cognito-idp.us-east-1.amazonaws.com/", "neither Cognito's endpoint"),
        ("http://api.example.com/cognito", "plain http"),
        ("https://user:pw@api.example.com/cognito", "credentials"),
        ("ftp://api.example.com/", "not an http(s) URL"),
    ],
)
def test_a_config_sending_the_password_elsewhere_is_refused(
    tmp_path: Path, url: str, why: str
) -> None:
    with pytest.raises(ChatClientError, match="refusing config") as refused:
        load_config(None, config_file(tmp_path, url))
    assert why in str(refused.value)


def test_plain_http_is_allowed_on_loopback_only() -> None:
    assert cognito_url_problem("http://127.0.0.1:8787/cognito", "us-east-1", "127.0.0.1") is None
    assert cognito_url_problem("http://localhost:8787/cognito", "us-east-1", "localhost") is None
    assert cognito_url_problem("http://[::1]:8787/cognito", "us-east-1", "::1") is None
    problem = cognito_url_problem("http://10.0.0.5/cognito", "us-east-1", "10.0.0.5")
    assert problem is not None
    assert "plain http" in problem
