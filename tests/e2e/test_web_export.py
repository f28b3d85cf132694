"""The web client's "Export my data" in Chromium (desktop size) against a real `dynamotalk
dev`: the button starts a job, the page polls its status (a bounded loop in export.js, no
sleep in the test) and shows the download link, which serves the archive with what the user
said."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

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


def test_export_my_data_shows_a_link_to_my_archive(page: Page, stack_web_url: str) -> None:
    tag = uuid.uuid4().hex[:6]
    enter(page, stack_web_url, f"expo{tag}")
    said = f"for my archive {tag}"
    say(page, said)
    expect(page.locator("#messages li.message", has_text=said)).to_be_visible()
    page.get_by_role("button", name="Export my data").click()
    link = page.get_by_role("link", name="Download my data")
    expect(link).to_be_visible(timeout=60_000)
    archive = httpx.get(str(link.get_attribute("href")), timeout=10).json()
    assert [m["text"] for m in archive["messages"]] == [said]
    assert archive["profile"]["username"] == f"expo{tag}"
