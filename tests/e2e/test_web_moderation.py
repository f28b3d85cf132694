"""The web client's threads, mentions, roles and moderation in Chromium, at a desktop size and a
phone size, against a real `dynamotalk dev` (DynamoDB Local): a reply opens a thread panel that
pages, a parent's reply count moves live when someone else replies, a reply also sent to the
room shows in the timeline marked; a mention of me is highlighted and badges the room (live and
from GET /rooms) until read; an owner's member menu changes a role, mutes (the member's composer
says until when) and kicks (the room leaves the member's list live); a pin shows in the pins
panel; a report reaches the admin's queue and is resolved; a blocked author's messages become
stubs. The other people are real API and WebSocket users (tests/e2e/client) or a second page."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from dynamotalk.client import frames
from dynamotalk.local.stack import DEMO_ROOM
from tests.e2e.client import User
from tests.e2e.test_web import browser, no_csp_violations, sign_up
from tests.e2e.test_web_firstrun import VIEWPORTS, back_to_rooms, is_phone, no_sideways_scroll

__all__ = ["browser", "no_csp_violations"]
pytestmark = pytest.mark.timeout(300)

THREAD_PAGE = 10
"""web/threads.js THREAD_PAGE: replies per page of the thread panel."""


def new_page(browser: Browser, contexts: list[BrowserContext], phone: bool) -> Page:
    """A page of its own context (one person), at the phone or desktop size."""
    size = VIEWPORTS["phone" if phone else "desktop"]
    context = browser.new_context(viewport=size, is_mobile=phone, has_touch=phone)
    contexts.append(context)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # confirm() of kick, ban, block
    return page


@pytest.fixture(params=list(VIEWPORTS))
def phone(request: pytest.FixtureRequest) -> bool:
    return request.param == "phone"


@pytest.fixture
def pages(browser: Browser, phone: bool) -> Iterator[list[BrowserContext]]:
    """The browser contexts a test opens (new_page), closed after it."""
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def message(page: Page, text: str, where: str = "#messages") -> Locator:
    return page.locator(f"{where} li.message", has_text=text)


def act_on(page: Page, item: Locator, button: str) -> None:
    """Show a message's toolbar (hover, or a tap on a phone) and press one of its buttons."""
    if is_phone(page):
        # Its top-left corner: the next message's toolbar may overlap this one's foot.
        item.locator(".body").first.tap(position={"x": 2, "y": 2})
    else:
        item.hover()
    item.locator(".actions").get_by_role("button", name=button, exact=True).click()


def more(page: Page, item: Locator, choice: str) -> None:
    act_on(page, item, "More actions")
    page.get_by_role("dialog").get_by_role("button", name=choice, exact=True).click()


def choose(page: Page, *choices: str) -> None:
    for choice in choices:
        page.get_by_role("dialog").get_by_role("button", name=choice, exact=True).click()


def enter(page: Page, base: str, name: str) -> None:
    """Sign up, and wait for the first run to land in the lobby."""
    sign_up(page, base, name)
    expect(page.locator("#room-title")).to_have_text(DEMO_ROOM)


def to_list(page: Page) -> None:
    """On a phone, go to the room list's screen if a room is open."""
    if page.locator("#app.in-room").count():
        back_to_rooms(page)


def join_from_list(page: Page, name: str) -> None:
    to_list(page)
    page.locator("#public-list li", has_text=name).get_by_role("button").click()
    expect(page.locator("#room-title")).to_have_text(name)


def open_room(page: Page, name: str) -> None:
    to_list(page)
    page.locator("#room-list button", has_text=name).click()
    expect(page.locator("#room-title")).to_have_text(name)


def say(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()


def test_threads_reply_page_and_count_live(
    browser: Browser, pages: list[BrowserContext], phone: bool, stack_url: str, stack_web_url: str
) -> None:
    other = User(stack_url, "thr")
    name = f"threads {os.urandom(3).hex()}"
    room = other.room(name)
    ws = other.socket()
    parent = ws.post(room, "parent topic")
    paged = ws.post(room, "a long thread")
    for n in range(THREAD_PAGE + 1):
        reply = ws.call(frames.send_message(room, f"old reply {n:02}", parent_id=paged["id"]))
        assert reply["type"] == "ack", reply

    page = new_page(browser, pages, phone)
    enter(page, stack_web_url, f"th{os.urandom(3).hex()}")
    join_from_list(page, name)
    expect(message(page, "a long thread").locator(".thread-link")).to_contain_text("11 replies")
    # A reply in a thread only: not in the timeline.
    expect(message(page, "old reply")).to_have_count(0)

    # Reply opens the thread panel; my reply counts on the parent live.
    act_on(page, message(page, "parent topic"), "Reply in thread")
    panel = page.get_by_role("complementary", name="Thread")
    expect(panel.locator("li.parent")).to_contain_text("parent topic")
    panel.get_by_role("textbox", name="Reply").fill("my thread reply")
    panel.get_by_role("button", name="Reply", exact=True).click()
    expect(message(page, "my thread reply", "#panel-body")).to_be_visible()
    expect(message(page, "parent topic").locator(".thread-link")).to_contain_text("1 reply")
    expect(message(page, "my thread reply")).to_have_count(0)

    # Someone else replies: the count moves live, the reply shows in the open thread.
    theirs = ws.call(frames.send_message(room, "their thread reply", parent_id=parent["id"]))
    assert theirs["type"] == "ack", theirs
    expect(message(page, "parent topic").locator(".thread-link")).to_contain_text(
        "2 replies · last at"
    )
    expect(message(page, "their thread reply", "#panel-body")).to_be_visible()

    # "Also send to the room": the reply shows in the timeline too, marked.
    panel.get_by_role("textbox", name="Reply").fill("also in the room")
    panel.get_by_label("also send to the room").check()
    panel.get_by_role("button", name="Reply", exact=True).click()
    timeline = message(page, "also in the room")
    expect(timeline.get_by_role("button", name="replied to a thread")).to_be_visible()
    expect(message(page, "parent topic").locator(".thread-link")).to_contain_text("3 replies")
    panel.get_by_role("button", name="Close", exact=True).click()
    expect(panel).to_be_hidden()

    # Quote: a chip in the composer, then the snapshot on the message sent.
    more(page, message(page, "parent topic"), "Quote")
    expect(page.locator("#quote-chip")).to_contain_text("Quoting")
    say(page, "quoting that")
    quoted = message(page, "quoting that").locator("blockquote.quote")
    expect(quoted).to_contain_text("parent topic")
    expect(quoted.locator("cite")).to_contain_text(other.name)
    expect(page.locator("#quote-chip")).to_be_hidden()

    # A long thread pages: the first page, then newer replies.
    message(page, "a long thread").locator(".thread-link").click()
    replies = page.locator("#thread-replies li.message")
    expect(replies).to_have_count(THREAD_PAGE)
    expect(replies.first).to_contain_text("old reply 00")
    page.get_by_role("button", name="Newer replies").click()
    expect(replies).to_have_count(THREAD_PAGE + 1)
    expect(replies.last).to_contain_text(f"old reply {THREAD_PAGE:02}")
    expect(page.get_by_role("button", name="Newer replies")).to_have_count(0)
    no_sideways_scroll(page)
    ws.close()


def test_a_mention_of_me_is_highlighted_and_badges_the_room(
    browser: Browser, pages: list[BrowserContext], phone: bool, stack_url: str, stack_web_url: str
) -> None:
    other = User(stack_url, "men")
    name = f"mentions {os.urandom(3).hex()}"
    room = other.room(name)
    quiet = f"quiet {os.urandom(3).hex()}"
    other.room(quiet)
    me = f"me{os.urandom(3).hex()}"
    page = new_page(browser, pages, phone)
    enter(page, stack_web_url, me)
    join_from_list(page, name)
    join_from_list(page, quiet)  # the mentioned room is not the open one

    ws = other.socket()
    posted = ws.post(room, f"hey @{me}, look at this")
    assert posted["mentions"], posted
    ws.post(room, "nothing for you")
    to_list(page)
    entry = page.locator("#room-list button", has_text=name)
    expect(entry.get_by_label("1 mention")).to_have_text("@1")  # the `mention` event, live

    # Signed in again, the badge comes from GET /rooms (unreadMentions).
    page.reload()
    page.get_by_label("Username").fill(me)
    page.get_by_label("Password").fill("web-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#room-title")).to_have_text(DEMO_ROOM)
    to_list(page)
    expect(entry.get_by_label("1 mention")).to_have_text("@1")

    open_room(page, name)
    mention = message(page, "look at this")
    expect(mention).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(mention.locator("mark.mention")).to_have_text(f"@{me}")
    expect(message(page, "nothing for you")).not_to_have_class(re.compile(r"\bmentions-me\b"))
    to_list(page)
    expect(entry.get_by_label("1 mention")).to_have_count(0)  # read: cleared

    # @name completion offers the room's members; the server resolves the mention.
    open_room(page, name)
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.press_sequentially(f"thanks @{other.name[:4]}")
    page.get_by_role("group", name="Mention someone").get_by_role(
        "button", name=f"@{other.name}"
    ).click()
    expect(box).to_have_value(f"thanks @{other.name} ")
    page.get_by_role("button", name="Send").click()
    called = ws.wait(lambda f: f.get("type") == "mention" and f["roomId"] == room)
    assert called["authorId"] != other.id
    ws.close()


def test_an_owner_moderates_from_the_menus(
    browser: Browser, pages: list[BrowserContext], phone: bool, stack_web_url: str
) -> None:
    tag = os.urandom(3).hex()
    name = f"moderated {tag}"
    owner = new_page(browser, pages, phone)
    enter(owner, stack_web_url, f"own{tag}")
    to_list(owner)
    owner.get_by_label("New room").fill(name)
    owner.get_by_role("button", name="Create").click()
    expect(owner.locator("#room-title")).to_have_text(name)
    expect(owner.get_by_role("button", name="Settings", exact=True)).to_be_visible()
    expect(owner.get_by_role("button", name="Moderation", exact=True)).to_be_visible()
    say(owner, "owner says hi")
    expect(message(owner, "owner says hi")).to_be_visible()

    member_name = f"mem{tag}"
    member = new_page(browser, pages, phone)
    enter(member, stack_web_url, member_name)
    join_from_list(member, name)
    expect(
        member.get_by_role("button", name="Moderation", exact=True)
    ).to_be_hidden()  # a member's view
    expect(member.get_by_role("button", name="Settings", exact=True)).to_be_hidden()
    say(member, "pin me please")
    expect(message(owner, "pin me please")).to_be_visible()

    # Roles in the members list; a member's own menu offers nothing over the owner.
    owner.get_by_role("button", name="Members", exact=True).click()
    members = owner.locator("#panel-body .members")
    row = members.locator("li", has_text=member_name)
    expect(row.locator(".role")).to_have_text("member")
    expect(members.locator("li", has_text=f"own{tag}").locator(".role")).to_have_text("owner")
    member.get_by_role("button", name="Members", exact=True).click()
    expect(member.get_by_role("button", name=re.compile("^Manage"))).to_have_count(0)
    member.get_by_role("button", name="Close", exact=True).click()

    # Change role: shown live.
    row.get_by_role("button", name=f"Manage {member_name}").click()
    choose(owner, "Change role…", "moderator")
    expect(row.locator(".role")).to_have_text("moderator")

    # Mute: the member's composer says so, with until when, and a post is refused with it.
    row.get_by_role("button", name=f"Manage {member_name}").click()
    choose(owner, "Mute…", "10 minutes")
    notice = member.locator("#composer-notice")
    expect(notice).to_contain_text("You are muted in this room until")
    expect(row).to_contain_text("muted until")
    say(member, "can I still talk?")
    expect(notice).to_contain_text("muted")
    expect(message(member, "can I still talk?")).to_have_count(0)
    owner.get_by_role("button", name="Close", exact=True).click()

    # Pin: in the pins panel.
    more(owner, message(owner, "pin me please"), "Pin")
    owner.get_by_role("button", name="Pins", exact=True).click()
    expect(owner.locator("#panel-body .pins li")).to_contain_text("pin me please")
    owner.get_by_role("button", name="Close", exact=True).click()

    # Room settings (admins and up): a new name and slow mode, seen live by the member.
    owner.get_by_role("button", name="Settings", exact=True).click()
    owner.get_by_label("Room name", exact=True).fill(f"{name}!")
    owner.get_by_label("Slow mode").select_option(label="one message every 30 seconds")
    owner.get_by_role("button", name="Save").click()
    expect(member.locator("#room-title")).to_have_text(f"{name}!")
    owner.get_by_role("button", name="Close", exact=True).click()

    # Report: the owner (an admin and up) sees it in the queue and resolves it.
    more(member, message(member, "owner says hi"), "Report")
    choose(member, "spam")
    expect(member.locator("#toast")).to_contain_text("Reported")
    owner.get_by_role("button", name="Moderation", exact=True).click()
    queue = owner.get_by_role("list", name="Open reports")
    expect(queue.locator("li")).to_contain_text("owner says hi")
    queue.get_by_role("button", name="Dismiss").click()
    expect(owner.locator("#panel-body")).to_contain_text("No open reports.")
    audit = owner.get_by_role("list", name="Audit log")
    expect(audit).to_contain_text("changeRoles")
    expect(audit).to_contain_text("mute")
    expect(audit).to_contain_text("pin")
    expect(audit).to_contain_text("slowMode")
    expect(audit).to_contain_text("rename")
    owner.get_by_role("button", name="Close", exact=True).click()

    # Block: the owner's messages become stubs for the member.
    more(member, message(member, "owner says hi"), "Block author")
    stubs = member.locator("#messages li.message.blocked")
    expect(stubs).to_have_count(1)
    expect(stubs).to_have_text(re.compile("Message from a blocked user"))
    expect(message(member, "owner says hi")).to_have_count(0)

    # Archived: the member's composer says the room is read-only.
    owner.get_by_role("button", name="Settings", exact=True).click()
    owner.get_by_label("archived (read-only)").check()
    owner.get_by_role("button", name="Save").click()
    expect(notice).to_contain_text("This room is archived")
    owner.get_by_role("button", name="Close", exact=True).click()

    # Kick: the room leaves the member's list at once.
    owner.get_by_role("button", name="Members", exact=True).click()
    row.get_by_role("button", name=f"Manage {member_name}").click()
    choose(owner, "Kick")
    expect(row).to_have_count(0)
    expect(member.locator("#room-list button", has_text=name)).to_have_count(0)
    expect(member.locator("#room-title")).to_have_text("No room open")
    no_sideways_scroll(owner)
    no_sideways_scroll(member)
