"""Web Push in the browser (Chromium, one viewport) against a real `dynamotalk dev`: the service
worker registers, "Notifications" subscribes with the stage's VAPID key and the server accepts
the PUT (201), turning it off DELETEs it, and the room header mutes the room.

Headless Chromium's `pushManager.subscribe` needs Google's push service (FCM) on the network,
so this test stands in for it alone (an init script): the subscription it returns names the
local push service and keys made here, as a browser's would. Everything else is real."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.client import User
from tests.e2e.test_web import browser, no_csp_violations, sign_up
from tests.support.webpush_rfc8291 import new_subscription, unb64url

__all__ = ["browser", "no_csp_violations"]
pytestmark = pytest.mark.timeout(180)

FAKE_PUSH_MANAGER = """
(() => {
  const state = { sub: null };
  const subscription = %s;
  PushManager.prototype.subscribe = async function (options) {
    window.__pushKey = Array.from(new Uint8Array(options.applicationServerKey));
    window.__userVisibleOnly = options.userVisibleOnly;
    state.sub = { endpoint: subscription.endpoint, toJSON: () => subscription,
                  unsubscribe: async () => { state.sub = null; return true; } };
    return state.sub;
  };
  PushManager.prototype.getSubscription = async function () { return state.sub; };
})();
"""


@pytest.fixture
def page(browser: Browser, stack_url: str, stack_web_url: str) -> Iterator[Page]:
    origin = httpx.get(f"{stack_url}/_local/push", timeout=10).json()["origin"]
    body, _, _ = new_subscription(f"{origin}/push/{uuid.uuid4().hex}")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["notifications"], origin=stack_web_url)
    context.add_init_script(FAKE_PUSH_MANAGER % json.dumps(body))
    yield context.new_page()
    context.close()


def test_notifications_subscribe_unsubscribe_and_mute(
    page: Page, stack_url: str, stack_web_url: str
) -> None:
    sign_up(page, stack_web_url, f"pusher{uuid.uuid4().hex[:6]}")
    toggle = page.locator("#push-toggle")
    expect(toggle).to_have_text("Notifications: off")
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => Boolean(r.active))")
    with page.expect_response(lambda r: "/push/subscriptions/" in r.url) as put:
        toggle.click()
    assert (put.value.request.method, put.value.status) == ("PUT", 201)
    expect(toggle).to_have_text("Notifications: on")
    key = User(stack_url, "keyreader").get("/push/key")["publicKey"]
    assert page.evaluate("window.__pushKey") == list(unb64url(key))
    assert page.evaluate("window.__userVisibleOnly") is True
    with page.expect_response(lambda r: "/push/subscriptions/" in r.url) as deleted:
        toggle.click()
    assert (deleted.value.request.method, deleted.value.status) == ("DELETE", 200)
    expect(toggle).to_have_text("Notifications: off")
    mute = page.locator("#room-mute")  # the lobby is open on first run
    expect(mute).to_have_text("Mute")
    with page.expect_response(
        lambda r: r.url.endswith("/notifications") and r.request.method == "PUT"
    ) as muted:
        mute.click()
    assert muted.value.status == 200
    expect(mute).to_have_text("Unmute")
