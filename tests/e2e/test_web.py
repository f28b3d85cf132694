"""The web client in a real browser: Debian's Chromium driven by Playwright, against the real
handlers behind the local gateway. The page comes from the web origin and calls the API on
another origin, as CloudFront and API Gateway serve them, with CORS enforced as configured. Two
people sign up, chat both ways, see each other type, scroll back through history, share an
image, and survive a dropped connection without missing a message; a page served from an origin
the API does not allow is refused by the browser."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, WebSocket, expect, sync_playwright

from dynamotalk.domain.identities import USERNAME_MAX, USERNAME_MIN
from dynamotalk.domain.limits import Limits
from dynamotalk.local.provision import LOCAL_POOL
from dynamotalk.routes import CLIENT_ACTIONS as ACTIONS
from dynamotalk.routes import WS_ACTIONS
from tests.e2e import gateway_stack
from tests.e2e.client import User
from tests.e2e.gateway_stack import GatewayStack

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


REPORT_CSP_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) =>
  window.__dynamotalkCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI} ${e.sample}`));"""


class CspWatchedBrowser:
    """Chromium whose every context reports Content-Security-Policy violations (the page's
    `securitypolicyviolation` events) to `violations`, even after the context is closed."""

    def __init__(self, chromium: Browser) -> None:
        self.chromium = chromium
        self.violations: list[str] = []

    def new_context(self, **options: Any) -> BrowserContext:
        context = self.chromium.new_context(**options)
        context.expose_binding(
            "__dynamotalkCspViolation", lambda _source, text: self.violations.append(text)
        )
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        return context

    def __getattr__(self, name: str) -> Any:
        return getattr(self.chromium, name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield cast("Browser", CspWatchedBrowser(chromium))
        chromium.close()


@pytest.fixture(autouse=True)
def no_csp_violations(browser: Browser) -> Iterator[None]:
    """Every flow here runs under the web origin's CSP (webheaders.py): none may break it."""
    watched = cast("CspWatchedBrowser", browser)
    watched.violations.clear()
    yield
    assert watched.violations == []


@pytest.fixture(scope="module")
def site(
    dynamodb_local: str, moto_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayStack]:
    """The API on one origin, the web client on another (the only one the API's CORS allows)."""
    yield from gateway_stack.start(dynamodb_local, moto_server, tmp_path_factory.mktemp("web"))


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


def join_public(page: Page, room_name: str) -> None:
    """Join from the list of public rooms (name, member count, a Join button each)."""
    page.locator("#public-list li", has_text=room_name).get_by_role("button").click()


def message(page: Page, text: str) -> object:
    return page.locator("#messages li.message .text", has_text=text)


def test_two_people_chat_in_the_browser(
    browser: Browser, site: GatewayStack, tmp_path: Path
) -> None:
    shots = screenshot_dir(tmp_path)
    desk = browser.new_context(viewport={"width": 1100, "height": 720})
    phone = browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True)
    alice, bob = desk.new_page(), phone.new_page()
    tag = os.urandom(3).hex()
    alice_name, bob_name = f"alice{tag}", f"bob{tag}"

    alice.goto(site.web + "/")
    expect(alice.get_by_label("Username")).to_be_focused()
    alice.screenshot(path=str(shots / "sign-in.png"))
    sign_up(alice, site.web, alice_name)
    room_name = f"web {tag}"
    alice.get_by_label("New room").fill(room_name)
    alice.get_by_role("button", name="Create").click()
    expect(alice.locator("#room-title")).to_have_text(room_name)

    before = set(httpx.get(f"{site.api}/_local/connections").json()["connections"])
    sign_up(bob, site.web, bob_name)
    bob_connection = (
        set(httpx.get(f"{site.api}/_local/connections").json()["connections"]) - before
    ).pop()
    join_public(bob, room_name)
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
    bob.wait_for_function(
        "() => document.querySelector(\"img.preview[alt='dot.png']\").naturalWidth > 0"
    )
    expect(alice.locator("#presence")).to_have_text(f"online: {bob_name}")

    alice.screenshot(path=str(shots / "conversation.png"))

    # A dropped socket: what is posted meanwhile arrives through sync after the reconnect.
    poster = User(site.api, "poster")
    room_id = alice.evaluate(
        "() => document.querySelector('#room-list button[aria-current=true]').dataset.roomId"
    )
    poster.post(f"/rooms/{room_id}/join")
    socket = poster.socket()
    assert httpx.post(f"{site.api}/_local/connections/{bob_connection}/drop").status_code == 204
    socket.post(room_id, "posted while bob was away 1")
    socket.post(room_id, "posted while bob was away 2")
    expect(bob.locator("#conn-state")).to_have_text("online", timeout=15_000)
    expect(message(bob, "posted while bob was away 1")).to_be_visible(timeout=15_000)
    expect(message(bob, "posted while bob was away 2")).to_be_visible()
    socket.close()
    desk.close()
    phone.close()


def test_history_loads_older_messages_on_scroll_up(browser: Browser, site: GatewayStack) -> None:
    writer = User(site.api, "writer")
    room_id = writer.room(f"history {os.urandom(3).hex()}")
    socket = writer.socket()
    for n in range(75):
        socket.post(room_id, f"old message {n:02d}")
    socket.close()
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    sign_up(page, site.web, f"reader{os.urandom(3).hex()}")
    page.locator(f"#public-list button[data-join-room-id='{room_id}']").click()
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


def test_the_web_config_names_the_routed_actions(site: GatewayStack) -> None:
    """The client sends `{action: actions.SendMessage, ...}`: config.json holds every action."""
    config = httpx.get(f"{site.web}/config.json").json()
    assert config["actions"] == ACTIONS
    assert sorted(config["actions"].values()) == sorted(WS_ACTIONS)


def test_the_forms_keep_to_the_stages_limits(browser: Browser, site: GatewayStack) -> None:
    """config.json `limits` reach the forms: the browser refuses what the server would."""
    config = httpx.get(f"{site.web}/config.json").json()
    limits = config["limits"]
    assert limits["maxText"] == Limits().max_text  # the local stage keeps the domain's ceiling
    assert limits["minPassword"] == LOCAL_POOL.password_policy.minimum_length
    assert (limits["usernameMin"], limits["usernameMax"]) == (USERNAME_MIN, USERNAME_MAX)
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.web + "/")
    expect(page.get_by_label("Username")).to_have_attribute("maxlength", str(USERNAME_MAX))
    bounds = page.evaluate(
        """() => ({
            text: document.getElementById("message-input").maxLength,
            room: document.getElementById("create-name").maxLength,
            password: document.getElementById("password").minLength,
            avatar: document.getElementById("avatar-input").accept,
        })"""
    )
    assert bounds == {
        "text": limits["maxText"],
        "room": Limits().max_room_name,
        "password": limits["minPassword"],
        "avatar": ",".join(sorted(Limits().avatar_content_types)),
    }
    page.get_by_label("Username").fill("x" * (USERNAME_MAX + 10))
    assert len(page.get_by_label("Username").input_value()) == USERNAME_MAX
    context.close()


def test_bad_password_shows_a_clear_error(browser: Browser, site: GatewayStack) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.web + "/")
    page.get_by_label("Username").fill("nobody-here")
    page.get_by_label("Password").fill("wrong-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_have_text("Wrong username or password.")
    context.close()


def test_edit_delete_react_and_avatar_in_the_browser(browser: Browser, site: GatewayStack) -> None:
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    viewer_context = browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True)
    viewer = viewer_context.new_page()
    tag = os.urandom(3).hex()
    sign_up(page, site.web, f"editor{tag}")
    room_name = f"edits {tag}"
    page.get_by_label("New room").fill(room_name)
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#room-title")).to_have_text(room_name)
    sign_up(viewer, site.web, f"viewer{tag}")
    join_public(viewer, room_name)
    expect(viewer.locator("#room-title")).to_have_text(room_name)

    page.get_by_role("textbox", name="Message", exact=True).fill("first draft")
    page.keyboard.press("Enter")
    expect(message(viewer, "first draft")).to_be_visible()
    mine = page.locator("#messages li.message", has_text="first draft")
    mine.hover()  # the actions show on hover or focus
    mine.get_by_role("button", name="Edit").click()  # the text goes to the composer
    page.get_by_role("textbox", name="Message", exact=True).fill("final words")
    page.keyboard.press("Enter")
    expect(message(viewer, "final words")).to_be_visible()
    expect(viewer.locator("#messages li.message", has_text="final words")).to_contain_text(
        "(edited)"
    )

    theirs = viewer.locator("#messages li.message", has_text="final words")
    theirs.locator(".text").click()  # a tap focuses the message: its actions show
    theirs.get_by_role("button", name="Add reaction").click()
    theirs.get_by_role("button", name="React with 🎉").click()
    reaction = page.locator("#messages li.message", has_text="final words").locator(".chip")
    expect(reaction).to_have_text("🎉 1")
    expect(reaction).to_have_attribute("title", f"viewer{tag} reacted with 🎉")
    expect(theirs.locator(".chip")).to_have_attribute("aria-pressed", "true")

    page.once("dialog", lambda dialog: dialog.accept())
    edited = page.locator("#messages li.message", has_text="final words")
    edited.hover()
    edited.get_by_role("button", name="Delete").click()
    expect(viewer.locator("#messages li.message.deleted .text")).to_have_text("message deleted")
    expect(message(viewer, "final words")).to_have_count(0)

    page.locator("#avatar-input").set_input_files(
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": png(48, 48)}]
    )
    expect(page.locator("#my-avatar")).to_be_visible()
    page.wait_for_function("() => document.getElementById('my-avatar').naturalWidth === 48")
    context.close()
    viewer_context.close()


@pytest.fixture
def foreign_origin(site: GatewayStack) -> Iterator[str]:
    """The same web client and config.json served from an origin the API does not allow."""
    import threading

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from dynamotalk.local.emulators import free_port

    config = httpx.get(f"{site.web}/config.json").json()
    web = Path(__file__).resolve().parents[2] / "web"
    app = Starlette(
        routes=[
            Route("/config.json", lambda request: JSONResponse(config)),
            Mount("/", StaticFiles(directory=web, html=True)),
        ]
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{origin}/config.json", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        thread.join(0.1)
    yield origin
    server.should_exit = True
    thread.join(10)


CALL_API = """async (url) => {
  try { const reply = await fetch(url); return `status ${reply.status}`; }
  catch (error) { return `refused: ${error.name}`; }
}"""


COGNITO_CALL = """async (url) => {
  try {
    const reply = await fetch(url, { method: "POST", headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth" },
      body: JSON.stringify({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: "nobody",
        AuthParameters: { USERNAME: "nobody", PASSWORD: "wrong-password-1" } }) });
    return `status ${reply.status}`;
  } catch (error) { return `refused: ${error.name}`; }
}"""


def test_a_page_from_an_origin_the_api_does_not_allow_is_refused_by_cors(
    browser: Browser, site: GatewayStack, foreign_origin: str
) -> None:
    context = browser.new_context()
    allowed, foreign = context.new_page(), context.new_page()
    allowed.goto(site.web + "/")
    foreign.goto(foreign_origin + "/")
    expect(foreign.get_by_role("heading", name="DynamoTalk")).to_be_visible()
    url = f"{site.api}/api/health"
    assert allowed.evaluate(CALL_API, url) == "status 200"
    assert foreign.evaluate(CALL_API, url) == "refused: TypeError"
    # Cognito's public API answers every origin (a wrong password, not a CORS refusal).
    answer = foreign.evaluate(COGNITO_CALL, f"{site.api}/cognito")
    assert answer == "status 400", answer
    context.close()


INJECT_INLINE = """() => {
  const script = document.createElement("script");
  script.textContent = "window.__inlineRan = true";
  document.head.append(script);
  const box = document.createElement("div");
  box.innerHTML = '<img src="x" onerror="window.__handlerRan = true">';
  document.body.append(box);
  return new Promise((done) => setTimeout(
    () => done([window.__inlineRan === true, window.__handlerRan === true]), 300));
}"""


def test_the_web_origin_csp_blocks_inline_code_in_the_browser(
    browser: Browser, site: GatewayStack
) -> None:
    """The headers reach the browser and bite: an injected inline script and an inline event
    handler do not run, and the page reports each as a CSP violation (which is what the
    autouse watcher would catch in every other flow)."""
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(site.web + "/")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    expect(page.get_by_role("heading", name="DynamoTalk")).to_be_visible()
    assert page.evaluate(INJECT_INLINE) == [False, False]
    watched = cast("CspWatchedBrowser", browser)
    assert any(v.startswith("script-src-elem blocked inline") for v in watched.violations)
    assert any(v.startswith("script-src-attr blocked inline") for v in watched.violations)
    watched.violations.clear()


def test_tokens_stay_in_memory_and_the_socket_is_renewed_before_they_expire(
    browser: Browser, site: GatewayStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dynamotalk.settings import LOCAL_TOKEN_LIFETIME_ENV

    # Tokens that expire 2 minutes and 4 seconds after sign-in: the client refreshes 2 minutes
    # before expiry, so its reauth comes about 4 seconds in.
    monkeypatch.setenv(LOCAL_TOKEN_LIFETIME_ENV, "124")
    context = browser.new_context()
    page = context.new_page()
    sent: list[str] = []
    received: list[str] = []

    def watch(socket: WebSocket) -> None:
        socket.on("framesent", lambda payload: sent.append(str(payload)))
        socket.on("framereceived", lambda payload: received.append(str(payload)))

    page.on("websocket", watch)
    sign_up(page, site.web, f"mem{os.urandom(3).hex()}")

    storage = page.evaluate("() => sessionStorage.length + localStorage.length")
    assert storage == 0  # nothing for a script on the origin to steal
    for _ in range(80):  # up to 20 s for the refresh, the reauth and its ack
        if any('"action":"reauth"' in f and '"type":"ack"' in f for f in received):
            break
        page.wait_for_timeout(250)
    assert any('"action":"reauth"' in frame for frame in sent), sent
    assert any('"action":"reauth"' in f and '"type":"ack"' in f for f in received), received
    expect(page.locator("#conn-state")).to_have_text("online")

    page.reload()  # tokens were in memory only: the page asks to sign in again
    expect(page.get_by_label("Username")).to_be_visible()
    context.close()
