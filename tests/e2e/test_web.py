"""The web client in a real browser: Debian's Chromium driven by Playwright, against the real
local stack. Two people sign up, chat both ways, see each other type, scroll back through
history, share an image, and survive a dropped connection without missing a message."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.client import User

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


def screenshot_dir(tmp_path: Path) -> Path:
    target = os.environ.get("DYNAMOTALK_SCREENSHOTS")
    path = Path(target) if target else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def sign_up(page: Page, base: str, name: str) -> None:
    page.goto(base + "/")
    expect(page.get_by_role("heading", name="DynamoTalk")).to_be_visible()
    page.get_by_role("button", name="New here? Create an account").click()
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill("web-password-1")
    page.get_by_label("E-mail").fill(f"{name}@example.com")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#me-name")).to_have_text(name)
    expect(page.locator("#conn-state")).to_have_text("online")


def png(width: int = 160, height: int = 100) -> bytes:
    """A small valid PNG, made here (no fixture files)."""
    raw = b"".join(
        b"\x00" + b"".join(bytes((40 + x, 90 + y, 200)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def message(page: Page, text: str) -> object:
    return page.locator("#messages li.message .text", has_text=text)


def test_two_people_chat_in_the_browser(browser: Browser, stack_url: str, tmp_path: Path) -> None:
    shots = screenshot_dir(tmp_path)
    desk = browser.new_context(viewport={"width": 1100, "height": 720})
    phone = browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True)
    alice, bob = desk.new_page(), phone.new_page()
    tag = os.urandom(3).hex()
    alice_name, bob_name = f"alice{tag}", f"bob{tag}"

    alice.goto(stack_url + "/")
    expect(alice.get_by_label("Username")).to_be_focused()
    alice.screenshot(path=str(shots / "sign-in.png"))
    sign_up(alice, stack_url, alice_name)
    room_name = f"web {tag}"
    alice.get_by_label("New room").fill(room_name)
    alice.get_by_role("button", name="Create").click()
    expect(alice.locator("#room-title")).to_have_text(room_name)

    before = set(httpx.get(f"{stack_url}/_local/connections").json()["connections"])
    sign_up(bob, stack_url, bob_name)
    bob_connection = (
        set(httpx.get(f"{stack_url}/_local/connections").json()["connections"]) - before
    ).pop()
    bob.get_by_label("Public rooms").select_option(label=room_name)
    bob.get_by_role("button", name="Join").click()
    expect(bob.locator("#room-title")).to_have_text(room_name)

    # Live, both ways.
    alice.get_by_role("textbox", name="Message", exact=True).fill(f"hello {bob_name}")
    alice.keyboard.press("Enter")
    expect(message(bob, f"hello {bob_name}")).to_be_visible()
    bob.get_by_role("textbox", name="Message", exact=True).fill("hi alice!")
    bob.get_by_role("button", name="Send").click()
    expect(message(alice, "hi alice!")).to_be_visible()

    # Typing is shown to the other person.
    bob.get_by_role("textbox", name="Message", exact=True).press_sequentially(
        "still writ", delay=20
    )
    expect(alice.locator("#typing")).to_have_text(f"{bob_name} is typing…")

    # An image uploads through the presigned POST and shows to the other person.
    alice.locator("#file-input").set_input_files(
        files=[{"name": "dot.png", "mimeType": "image/png", "buffer": png()}]
    )
    image = bob.locator("#messages img.preview[alt='dot.png']")
    expect(image).to_be_visible()
    bob.wait_for_function("document.querySelector(\"img.preview[alt='dot.png']\").naturalWidth > 0")
    expect(alice.locator("#presence")).to_have_text(f"online: {bob_name}")

    alice.screenshot(path=str(shots / "conversation.png"))

    # A dropped socket: what is posted meanwhile arrives through sync after the reconnect.
    poster = User(stack_url, "poster")
    room_id = alice.evaluate(
        "() => document.querySelector('#room-list button[aria-current=true]').dataset.roomId"
    )
    poster.post(f"/rooms/{room_id}/join")
    socket = poster.socket()
    assert httpx.post(f"{stack_url}/_local/connections/{bob_connection}/drop").status_code == 204
    socket.post(room_id, "posted while bob was away 1")
    socket.post(room_id, "posted while bob was away 2")
    expect(bob.locator("#conn-state")).to_have_text("online", timeout=15_000)
    expect(message(bob, "posted while bob was away 1")).to_be_visible(timeout=15_000)
    expect(message(bob, "posted while bob was away 2")).to_be_visible()
    socket.close()
    desk.close()
    phone.close()


def test_history_loads_older_messages_on_scroll_up(browser: Browser, stack_url: str) -> None:
    writer = User(stack_url, "writer")
    room_id = writer.room(f"history {os.urandom(3).hex()}")
    socket = writer.socket()
    for n in range(75):
        socket.post(room_id, f"old message {n:02d}")
    socket.close()
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    sign_up(page, stack_url, f"reader{os.urandom(3).hex()}")
    page.get_by_label("Public rooms").select_option(value=room_id)
    page.get_by_role("button", name="Join").click()
    expect(message(page, "old message 74")).to_be_visible()
    assert page.locator("#messages li.message").count() == 30
    expect(message(page, "old message 00")).to_have_count(0)
    for _ in range(10):  # scroll to the top until the room's first message shows
        page.locator("#messages").evaluate(
            "list => { list.scrollTop = 0; list.dispatchEvent(new Event('scroll')); }"
        )
        if message(page, "old message 00").count():
            break
        page.wait_for_timeout(300)
    expect(message(page, "old message 00")).to_be_visible()
    texts = page.locator("#messages li.message .text").all_inner_texts()
    assert texts == [f"old message {n:02d}" for n in range(75)]
    context.close()


def test_bad_password_shows_a_clear_error(browser: Browser, stack_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(stack_url + "/")
    page.get_by_label("Username").fill("nobody-here")
    page.get_by_label("Password").fill("wrong-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_have_text("Wrong username or password.")
    context.close()


def test_edit_delete_react_and_avatar_in_the_browser(browser: Browser, stack_url: str) -> None:
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    viewer_context = browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True)
    viewer = viewer_context.new_page()
    tag = os.urandom(3).hex()
    sign_up(page, stack_url, f"editor{tag}")
    room_name = f"edits {tag}"
    page.get_by_label("New room").fill(room_name)
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#room-title")).to_have_text(room_name)
    sign_up(viewer, stack_url, f"viewer{tag}")
    viewer.get_by_label("Public rooms").select_option(label=room_name)
    viewer.get_by_role("button", name="Join").click()
    expect(viewer.locator("#room-title")).to_have_text(room_name)

    page.get_by_role("textbox", name="Message", exact=True).fill("first draft")
    page.keyboard.press("Enter")
    expect(message(viewer, "first draft")).to_be_visible()
    mine = page.locator("#messages li.message", has_text="first draft")
    page.once("dialog", lambda dialog: dialog.accept("final words"))
    mine.get_by_role("button", name="Edit").click()
    expect(message(viewer, "final words")).to_be_visible()
    expect(viewer.locator("#messages li.message", has_text="final words")).to_contain_text(
        "(edited)"
    )

    theirs = viewer.locator("#messages li.message", has_text="final words")
    theirs.get_by_role("button", name="React with 🎉").click()
    reaction = page.locator("#messages li.message", has_text="final words").get_by_role(
        "button", name="React with 🎉"
    )
    expect(reaction).to_have_text("🎉 1")
    expect(theirs.get_by_role("button", name="React with 🎉")).to_have_attribute(
        "aria-pressed", "true"
    )

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#messages li.message", has_text="final words").get_by_role(
        "button", name="Delete"
    ).click()
    expect(viewer.locator("#messages li.message.deleted .text")).to_have_text("message deleted")
    expect(message(viewer, "final words")).to_have_count(0)

    page.locator("#avatar-input").set_input_files(
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": png(48, 48)}]
    )
    expect(page.locator("#my-avatar")).to_be_visible()
    page.wait_for_function("document.getElementById('my-avatar').naturalWidth === 48")
    context.close()
    viewer_context.close()
