"""The web client as a new user meets it, in Chromium at a desktop size and a phone size,
against a real `dynamotalk dev` (DynamoDB Local, the lobby it seeds, its welcome message): the
first run lands in the lobby, every empty list says what to do, public rooms are a list with
member counts and a Join button, message actions show on hover or focus, one author's run of
messages is grouped, reactions come from a picker and say who reacted, Up edits my last message
and Esc cancels, a typing line ends when that person's message arrives, and at 390 px the page
never scrolls sideways. The other people are real API and WebSocket users (tests/e2e/client)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from dynamotalk.client import frames
from dynamotalk.local.stack import DEMO_ROOM, WELCOME
from tests.e2e.client import PASSWORD, Socket, User
from tests.e2e.test_web import browser, no_csp_violations, sign_up

__all__ = ["browser", "no_csp_violations"]
pytestmark = pytest.mark.timeout(240)

GROUPED = re.compile(r"\bgrouped\b")
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS))
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    size = VIEWPORTS[request.param]
    phone = request.param == "phone"
    context = browser.new_context(viewport=size, is_mobile=phone, has_touch=phone)
    yield context.new_page()
    context.close()


def is_phone(page: Page) -> bool:
    return page.viewport_size is not None and page.viewport_size["width"] < 640


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"


def in_view(page: Page, locator: Locator) -> None:
    """Fully on screen: inside the viewport, not below the fold or past the right edge.
    Playwright's retrying assertion (an IntersectionObserver ratio of 1), so a list that is
    redrawn while it is checked (the public rooms refresh) is checked again, not misread."""
    expect(locator).to_be_visible()
    expect(locator).to_be_in_viewport(ratio=1)


def shown_size(locator: Locator) -> float:
    """The larger side of what is drawn (a visually-hidden element is clipped to 1 px)."""
    box = locator.bounding_box()
    assert box is not None
    return max(box["width"], box["height"])


def back_to_rooms(page: Page) -> None:
    """On a phone the room list is its own screen, behind the room's Back button."""
    if is_phone(page):
        page.get_by_role("button", name="Back to rooms").click()


def message(page: Page, text: str) -> Locator:
    return page.locator("#messages li.message", has_text=text)


def reveal_actions(page: Page, item: Locator) -> None:
    """Hover on a desktop; a tap (which focuses the message) on a phone."""
    if is_phone(page):
        item.locator(".body").tap()
    else:
        item.hover()


def lobby_id(stack_web_url: str) -> str:
    lobby: str = httpx.get(f"{stack_web_url}/config.json").json()["lobby"]
    return lobby


def test_the_first_run_lands_in_the_lobby_and_empty_lists_say_what_to_do(
    page: Page, stack_url: str, stack_web_url: str
) -> None:
    tag = os.urandom(3).hex()
    sign_up(page, stack_web_url, f"new{tag}")
    # Nothing chosen, nothing joined: the lobby opens by itself, welcome message and all.
    expect(page.locator("#room-title")).to_have_text(DEMO_ROOM)
    expect(message(page, WELCOME)).to_be_visible()
    composer = page.get_by_role("textbox", name="Message", exact=True)
    expect(composer).to_be_focused()
    in_view(page, composer)
    in_view(page, page.get_by_role("button", name="Send"))
    no_sideways_scroll(page)
    # The sidebar: my one room, and what to do where a list is empty.
    back_to_rooms(page)
    rooms = page.get_by_role("navigation", name="Rooms")
    expect(rooms.locator("#room-list button")).to_have_text([f"# {DEMO_ROOM}"])
    expect(rooms.get_by_text("No invites. When someone invites you")).to_be_visible()
    expect(page.locator("#rooms-empty")).to_be_hidden()
    no_sideways_scroll(page)

    # A public room appears as a list entry with its member count and a Join button.
    owner = User(stack_url, "owner")
    name = f"garden {tag}"
    room_id = owner.room(name)
    User(stack_url, "guest").post(f"/rooms/{room_id}/join")
    page.reload()  # tokens live in memory only: sign in again, as a returning user
    page.get_by_label("Username").fill(f"new{tag}")
    page.get_by_label("Password").fill("web-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#room-title")).to_have_text(DEMO_ROOM)  # a member: it opens again
    back_to_rooms(page)
    entry = page.locator("#public-list li", has_text=name)
    expect(entry).to_contain_text("2 members")
    expect(page.locator("#public-list li", has_text=DEMO_ROOM)).to_have_count(0)
    assert page.locator("#join-select").count() == 0, "no drop-down of rooms"
    in_view(page, entry.get_by_role("button", name=f"Join {name} (2 members)"))
    entry.get_by_role("button", name=f"Join {name} (2 members)").click()
    expect(page.locator("#room-title")).to_have_text(name)
    # An empty room says what to do.
    expect(page.locator("#messages-empty")).to_have_text(
        "No messages yet. Say hello: write the first one below."
    )
    back_to_rooms(page)
    expect(page.locator("#room-list button", has_text=name)).to_be_visible()
    expect(page.locator("#public-list li", has_text=name)).to_have_count(0)
    assert httpx.get(f"{stack_url}/health").status_code == 200
    public = owner.get("/rooms/public", limit=100)["rooms"]
    assert next(r["memberCount"] for r in public if r["roomId"] == room_id) == 3


def test_a_user_in_other_rooms_only_is_not_put_back_in_the_lobby(
    page: Page, stack_url: str, stack_web_url: str
) -> None:
    """Someone who left the lobby and is in other rooms lands on their list, with the empty
    room screen saying what to do, not in a room they chose to leave."""
    person = User(stack_url, "leaver")
    person.post(f"/rooms/{lobby_id(stack_web_url)}/join")
    person.room(f"own {person.name}")
    person.post(f"/rooms/{lobby_id(stack_web_url)}/leave")
    page.goto(stack_web_url + "/")
    page.get_by_label("Username").fill(person.name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#conn-state")).to_have_text("online")
    expect(page.locator("#room-list button")).to_have_text([f"# own {person.name}"])
    if not is_phone(page):
        expect(page.locator("#messages-empty")).to_have_text(
            "Pick a room from your list, join a public room, or create one."
        )
    expect(page.locator("#room-title")).not_to_have_text(DEMO_ROOM)


@pytest.fixture
def room_with_other(stack_url: str) -> Iterator[tuple[User, Socket, str, str]]:
    """A public room made by another person, who stays on a WebSocket in it."""
    other = User(stack_url, "other")
    name = f"talk {os.urandom(3).hex()}"
    room_id = other.room(name)
    socket = other.socket()
    socket.call(frames.subscribe([room_id]))
    yield other, socket, room_id, name
    socket.close()


def join_from_list(page: Page, name: str) -> None:
    back_to_rooms(page)
    page.locator("#public-list li", has_text=name).get_by_role("button").click()
    expect(page.locator("#room-title")).to_have_text(name)


def send(page: Page, text: str) -> Locator:
    page.get_by_role("textbox", name="Message", exact=True).fill(text)
    page.keyboard.press("Enter")
    sent = message(page, text)
    expect(sent).to_be_visible()
    return sent


def test_actions_on_hover_or_focus_grouping_reactions_and_keyboard_edits(
    page: Page,
    stack_url: str,
    stack_web_url: str,
    room_with_other: tuple[User, Socket, str, str],
) -> None:
    other, socket, room_id, name = room_with_other
    me = f"me{os.urandom(3).hex()}"
    sign_up(page, stack_web_url, me)
    join_from_list(page, name)

    # One author's run of messages is one group: one header, read out but not shown again.
    first, second = send(page, "first of mine"), send(page, "second of mine")
    expect(first).not_to_have_class(GROUPED)
    expect(second).to_have_class(GROUPED)
    expect(first.locator(".meta")).to_be_visible()
    assert shown_size(second.locator(".meta")) <= 1, "a grouped message shows no header"
    expect(second.locator(".meta strong")).to_have_text(me)  # still there for a screen reader
    theirs = socket.post(room_id, "theirs breaks the run")
    expect(message(page, "theirs breaks the run").locator(".meta")).to_contain_text(other.name)
    third = send(page, "mine again")
    expect(third.locator(".meta")).to_be_visible()

    # Actions are not buttons under every message: they show on hover or focus.
    edit = second.get_by_role("button", name="Edit")
    expect(edit).to_be_hidden()
    expect(first.get_by_role("button", name="Add reaction")).to_be_hidden()
    reveal_actions(page, second)
    expect(edit).to_be_visible()
    expect(message(page, "theirs breaks the run").get_by_role("button", name="Edit")).to_have_count(
        0
    )
    # Keyboard: a message takes focus, and its toolbar shows.
    page.get_by_role("textbox", name="Message", exact=True).focus()
    first.focus()
    expect(first.get_by_role("button", name="Add reaction")).to_be_visible()

    # The picker: common emoji, then those already on the message.
    reaction = socket.call(frames.react(room_id, theirs["id"], "🦄"))
    assert reaction["type"] == "ack", reaction
    target = message(page, "theirs breaks the run")
    expect(target.locator(".chip")).to_have_text(["🦄 1"])
    expect(target.get_by_role("button", name=f"🦄 1: {other.name}")).to_have_attribute(
        "aria-pressed", "false"
    )
    reveal_actions(page, target)
    add = target.get_by_role("button", name="Add reaction")
    add.click()
    picker = target.get_by_role("group", name="Pick a reaction")
    expect(add).to_have_attribute("aria-expanded", "true")
    expect(picker.get_by_role("button", name="React with 👍")).to_be_focused()
    page.keyboard.press("Escape")  # closes the picker, back on its button
    expect(picker).to_have_count(0)
    expect(add).to_be_focused()
    page.keyboard.press("Enter")  # and the keyboard opens it again
    expect(picker.get_by_role("button")).to_have_count(9)
    expect(picker.get_by_role("button", name="React with 🦄")).to_be_visible()
    picker.get_by_role("button", name="React with 🎉").click()
    chip = target.get_by_role("button", name="🎉 1: you")
    expect(chip).to_have_attribute("aria-pressed", "true")
    expect(chip).to_have_attribute("title", "you reacted with 🎉")
    socket.call(frames.react(room_id, theirs["id"], "🎉"))
    both = target.get_by_role("button", name=f"🎉 2: you and {other.name}")
    expect(both).to_have_attribute("title", f"you and {other.name} reacted with 🎉")
    both.click()  # a chip toggles my own reaction off
    expect(target.get_by_role("button", name=f"🎉 1: {other.name}")).to_have_attribute(
        "aria-pressed", "false"
    )

    # Up in the empty box edits my last message; Esc cancels and gives the draft back.
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.fill("a draft")
    box.press("ArrowUp")
    expect(box).to_have_value("a draft")  # not empty: Up moves the caret, nothing else
    box.fill("")
    box.press("ArrowUp")
    expect(box).to_have_value("mine again")
    expect(page.locator("#editing")).to_be_visible()
    box.press("Escape")
    expect(box).to_have_value("")
    expect(page.locator("#editing")).to_be_hidden()
    box.press("ArrowUp")
    box.fill("mine, edited")
    box.press("Enter")
    edited = message(page, "mine, edited")
    expect(edited).to_contain_text("(edited)")
    expect(box).to_have_value("")
    assert other.get(f"/rooms/{room_id}/messages")["messages"][0]["text"] == "mine, edited"
    # The Edit button does the same, for any message of mine.
    reveal_actions(page, first)
    first.get_by_role("button", name="Edit").click()
    expect(box).to_have_value("first of mine")
    expect(box).to_be_focused()
    box.press("Escape")
    no_sideways_scroll(page)
    in_view(page, box)


def test_the_typing_line_ends_when_their_message_arrives(
    page: Page, stack_web_url: str, room_with_other: tuple[User, Socket, str, str]
) -> None:
    other, socket, room_id, name = room_with_other
    sign_up(page, stack_web_url, f"watcher{os.urandom(3).hex()}")
    join_from_list(page, name)
    # The page subscribes as the room opens; a notice sent before that reaches nobody: resend.
    for _ in range(20):
        socket.call(frames.typing(room_id))
        if page.locator("#typing").text_content() == f"{other.name} is typing…":
            break
        page.wait_for_timeout(250)
    expect(page.locator("#typing")).to_have_text(f"{other.name} is typing…")
    socket.post(room_id, "done typing")
    expect(message(page, "done typing")).to_be_visible()
    # Read once, as soon as the message shows: not after the line's own 4-second timeout.
    assert page.locator("#typing").text_content() == ""
