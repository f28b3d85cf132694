"""Real-user monitoring in the web client (web/rum.js), in Chromium against a real
`dynamotalk dev`, with no network beyond loopback.

RUM is off on the local stack (its config.json has no `rum`), and then nothing of RUM loads: no
script, no global, no request anywhere but the stack's own origins. With a config.json that
turns it on (the stack's own, plus the `rum` block dynamotalk/rum.py builds), pointed at a
loopback stand-in for AWS's script and data plane, the page loads the stand-in under the CSP,
with the SRI hash it was given, and the stand-in finds the config's values where the real RUM
web client reads them (`window.AwsRumClient`) and sends them to the config's endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect

from dynamotalk import rum
from tests.e2e.test_web import browser, no_csp_violations

__all__ = ["browser", "no_csp_violations"]
pytestmark = pytest.mark.timeout(240)

STAND_IN_PATH = "/__rum_stand_in__"
STAND_IN_SCRIPT = """(() => {
  const client = window.AwsRumClient;
  const sent = { i: client.i, v: client.v, r: client.r, c: client.c, n: client.n,
                 queued: typeof window[client.n] === "function" };
  fetch(`${client.c.endpoint}/appmonitors/${client.i}`, { method: "POST",
        body: JSON.stringify(sent) });
})();
"""
"""What stands in for cwr.js: report what the real client would start with to the endpoint."""


def integrity(script: str) -> str:
    digest = hashlib.sha384(script.encode()).digest()
    return "sha384-" + base64.b64encode(digest).decode()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def test_rum_off_by_default_loads_nothing_of_rum(
    page: Page, stack_url: str, stack_web_url: str
) -> None:
    config = httpx.get(f"{stack_web_url}/config.json", timeout=10).json()
    assert "rum" not in config
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(stack_web_url)
    expect(page.locator("#username")).to_be_focused()  # main() ran to its end
    assert page.evaluate("() => [typeof window.AwsRumClient, typeof window.cwr]") == [
        "undefined",
        "undefined",
    ]
    assert page.locator("script[src*='cwr']").count() == 0
    own = (stack_web_url, stack_url)
    assert [url for url in requested if not url.startswith(own)] == []
    assert not [url for url in requested if "rum" in url or "cwr" in url]


def test_rum_on_initialises_the_client_with_the_configs_values(
    page: Page, stack_web_url: str
) -> None:
    endpoint = f"{stack_web_url}{STAND_IN_PATH}/dataplane"
    block: dict[str, Any] = {
        **rum.client_rum_config(
            app_monitor_id="monitor-1234",
            identity_pool_id="eu-west-1:guest-pool",
            guest_role_arn="arn:aws:iam::123456789012:role/rum-guest",
            region="eu-west-1",
            sample_percent=100,
            script_integrity=integrity(STAND_IN_SCRIPT),
        ),
        "scriptUrl": f"{stack_web_url}{STAND_IN_PATH}/cwr.js",
        "endpoint": endpoint,
    }
    scripts: list[Request] = []

    def config_with_rum(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "rum": block})

    def stand_in_script(route: Route) -> None:
        scripts.append(route.request)
        route.fulfill(body=STAND_IN_SCRIPT, content_type="text/javascript")

    def data_plane(route: Route) -> None:
        route.fulfill(status=200, body="{}", content_type="application/json")

    page.route(f"{stack_web_url}/config.json", config_with_rum)
    page.route(f"{stack_web_url}{STAND_IN_PATH}/cwr.js", stand_in_script)
    page.route(f"{endpoint}/**", data_plane)
    with page.expect_request(lambda r: r.url.startswith(endpoint)) as posted:
        page.goto(stack_web_url)
    expect(page.locator("#username")).to_be_focused()
    expect(page.locator(f"script[src='{block['scriptUrl']}']")).to_have_attribute(
        "integrity", block["scriptIntegrity"]
    )
    assert len(scripts) == 1
    assert posted.value.url == f"{endpoint}/appmonitors/monitor-1234"
    started = json.loads(posted.value.post_data or "{}")
    assert (started["i"], started["r"], started["v"]) == (
        "monitor-1234",
        "eu-west-1",
        block["version"],
    )
    assert started["n"] == rum.RUM_NAMESPACE
    assert started["queued"] is True
    assert started["c"] == {
        "sessionSampleRate": 1,
        "identityPoolId": "eu-west-1:guest-pool",
        "guestRoleArn": "arn:aws:iam::123456789012:role/rum-guest",
        "endpoint": endpoint,
        "telemetries": list(rum.RUM_TELEMETRIES),
        "allowCookies": False,
        "recordResourceUrl": False,
        "enableXRay": False,
    }
