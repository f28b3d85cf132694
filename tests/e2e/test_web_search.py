"""The web client's search box in Chromium (desktop size) against a real `dynamotalk dev`: a
word said in the lobby is found once the indexer has run (the test searches again until it is,
never sleeping), the result names its room, and picking it from another room opens the lobby
with the message brought into view."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from dynamotalk.local.stack import DEMO_ROOM
from tests.e2e.test_web import browser, no_csp_violations
from tests.e2e.test_web_firstrun import VIEWPORTS
from tests.e2e.test_web_moderation import enter, say

__all__ = ["browser", "no_csp_violations"]
pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(viewport=VIEWPORTS["desktop"])
    yield context.new_page()
    context.close()


def searched_until_found(page: Page, words: str, attempts: int = 40) -> None:
    """Search until a result shows: indexing follows the post through the table's stream."""
    page.get_by_role("searchbox", name="Search your rooms").fill(words)
    hits = page.locator("#search-results .search-hit")
    for _ in range(attempts):
        page.get_by_role("button", name="Search", exact=True).click()
        try:
            expect(hits).to_have_count(1, timeout=500)
            return
        except AssertionError:
            continue
    expect(hits).to_have_count(1)


def test_a_result_opens_its_room_at_the_message(page: Page, stack_web_url: str) -> None:
    tag = uuid.uuid4().hex[:6]
    enter(page, stack_web_url, f"srch{tag}")
    word = f"kiwi{tag}"
    say(page, f"the {word} shipment arrived")
    expect(page.locator("#messages li.message", has_text=word)).to_be_visible()
    page.get_by_label("New room").fill(f"elsewhere {tag}")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#room-title")).to_have_text(f"elsewhere {tag}")
    searched_until_found(page, f"{word.upper()} shipment")
    hit = page.locator("#search-results .search-hit")
    expect(hit).to_contain_text(DEMO_ROOM)
    expect(hit).to_contain_text(f"the {word} shipment arrived")
    expect(hit.locator("mark")).to_have_text([word, "shipment"])  # the matched words
    hit.click()
    expect(page.locator("#room-title")).to_have_text(DEMO_ROOM)
    expect(page.locator("#messages li.message.found", has_text=word)).to_be_in_viewport()
    page.get_by_role("searchbox", name="Search your rooms").fill("zz" + tag)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#search-empty")).to_be_visible()
