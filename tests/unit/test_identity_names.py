"""Look-alike, decorated and blank names (issue 13 red team, F6): domain rules only."""

from __future__ import annotations

import pytest

from dynamotalk.domain import rules
from dynamotalk.domain.errors import InvalidInput
from dynamotalk.domain.identities import INVISIBLE_LETTERS, is_reserved, skeleton
from dynamotalk.domain.limits import Limits

LIMITS = Limits()


@pytest.mark.parametrize(
    ("look_alike", "plain"),
    [
        ("Dynam\u0585Talk", "dynamotalk"),  # Armenian o
        ("b\u1d0ft", "bot"),  # small capital o
        ("\u0299\u1d0f\u1d1b", "bot"),  # small capitals b, o, t
        ("\u0184ot", "bot"),  # tone six
        ("\u0253\u00f8\u0167", "bot"),  # b with hook, o with stroke, t with stroke
        ("\u13f4OT", "bot"),  # Cherokee B
        ("\u13aaDM\u13a5N", "admin"),  # Cherokee A and i
        ("bot\u3164", "bot"),  # Hangul filler
    ],
)
def test_look_alikes_share_the_plain_names_skeleton(look_alike: str, plain: str) -> None:
    assert skeleton(look_alike) == skeleton(plain)
    assert is_reserved(look_alike)


@pytest.mark.parametrize(
    "name",
    ["bot \u2713", "bot (AI)", "[bot]", "b o t", "Bot\u2800", "the-bot", "Anna (admin)", "bot!!"],
)
def test_a_decorated_reserved_name_is_reserved(name: str) -> None:
    assert is_reserved(name)


@pytest.mark.parametrize(
    "name", ["abbott", "robot", "botanist", "admins", "bot1", "Help desk Anna", "Root beer", "Zoë"]
)
def test_names_that_only_contain_a_reserved_word_inside_a_word_pass(name: str) -> None:
    assert not is_reserved(name)


@pytest.mark.parametrize("blank", [*sorted(INVISIBLE_LETTERS), "\u3164 \u3164", "\u0301"])
def test_names_that_draw_nothing_are_refused(blank: str) -> None:
    with pytest.raises(InvalidInput):
        rules.clean_display_name(blank, LIMITS)
    with pytest.raises(InvalidInput):
        rules.clean_room_name(blank, LIMITS)


@pytest.mark.parametrize("name", ["Anna\u3164", "lobby\u2800"])
def test_an_invisible_letter_inside_a_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        rules.clean_room_name(name, LIMITS)


@pytest.mark.parametrize("name", ["Zoë ❤️", "李雷", "café crème", "A"])
def test_visible_names_pass(name: str) -> None:
    assert rules.clean_display_name(name, LIMITS) == name
    assert rules.clean_room_name(name, LIMITS) == name
