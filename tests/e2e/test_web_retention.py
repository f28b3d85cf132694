"""The web client's room retention (issue 18) in a real Chromium on the shared local stack: the
room's owner chooses "1 day" in the room settings, the server stores it (GET /rooms/{roomId}),
and a member, who may not set it, is not offered the settings. One viewport (desktop)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.e2e.test_web import browser, no_csp_violations
from tests.e2e.test_web_moderation import enter, join_from_list, new_page, to_list

__all__ = ["browser", "no_csp_violations"]
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def pages() -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def test_an_owner_sets_the_rooms_retention_in_its_settings(
    browser: Browser, pages: list[BrowserContext], stack_web_url: str, stack_url: str
) -> None:
    tag = os.urandom(3).hex()
    name = f"brief {tag}"
    owner = new_page(browser, pages, phone=False)
    enter(owner, stack_web_url, f"own{tag}")
    to_list(owner)
    owner.get_by_label("New room").fill(name)
    owner.get_by_role("button", name="Create").click()
    expect(owner.locator("#room-title")).to_have_text(name)

    owner.get_by_role("button", name="Settings", exact=True).click()
    field = owner.get_by_label("Keep messages for")
    expect(field).to_be_enabled()
    expect(field).to_have_value("0")  # the server's default
    field.select_option(label="1 day")
    owner.get_by_role("button", name="Save").click()
    expect(owner.locator("#toast")).to_contain_text("Room settings saved")
    owner.get_by_role("button", name="Close", exact=True).click()

    # What the server stored, read with the owner's own token from the page's session.
    token = owner.evaluate("() => import('./store.js').then((s) => s.session.tokens.idToken)")
    config = httpx.get(f"{stack_url}/config.json").json()
    rooms = httpx.get(
        f"{config['httpUrl']}/rooms", headers={"authorization": f"Bearer {token}"}, timeout=10
    ).json()["rooms"]
    (mine,) = [r["room"] for r in rooms if r["room"]["name"] == name]
    assert mine["retentionDays"] == 1

    member = new_page(browser, pages, phone=False)
    enter(member, stack_web_url, f"mem{tag}")
    join_from_list(member, name)
    expect(member.get_by_role("button", name="Settings", exact=True)).to_be_hidden()
