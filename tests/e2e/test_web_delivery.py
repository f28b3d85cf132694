"""The web client's Delivery v2 side in Chromium (fixtures of test_web.py): its feed, backoff
and receipt modules run alone (routed from web/, no stack), and "seen by" against the local
stack, from the members' read markers at room open and from `read` events."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from dynamotalk import stage_config
from dynamotalk.domain.events import ROOM_CHANGE_TYPES
from dynamotalk.domain.limits import RECONNECT_BASE_MS, RECONNECT_CAP_MS, Limits
from dynamotalk.routes import CLIENT_ACTIONS as ACTIONS
from tests.e2e.client import User
from tests.e2e.gateway_stack import GatewayStack
from tests.e2e.test_web import browser, no_csp_violations, sign_up, site

__all__ = ["browser", "no_csp_violations", "site"]
pytestmark = pytest.mark.timeout(240)


WEB_DIR = Path(__file__).resolve().parents[2] / "web"
MODULES = "http://modules.test"
"""An origin made up for the page that imports the web client's modules on their own (routed
by Playwright to the files of web/, no server)."""
FEED_SCENARIOS = """async ({ actions, limits, changeTypes }) => {
  const store = await import("/store.js");
  Object.assign(store.actions, actions);
  Object.assign(store.limits, limits);
  for (const type of changeTypes) store.changeTypes.add(type);
  const { Feeds, RoomFeed, feeds } = await import("/feed.js");
  const { reconnectDelayMs, resumeFrames } = await import("/socket.js");
  const { readersOf } = await import("/receipts.js");
  const message = (n, text) => ({ id: `m${String(n).padStart(3, "0")}`, roomId: "r1", text: text ?? `text ${n}`, seq: n });
  const posted = (seq) => ({ v: 2, type: "message.posted", roomId: "r1", seq, message: message(seq) });
  const edited = (seq, n, text) => ({ v: 2, type: "message.edited", roomId: "r1", seq, message: message(n, text) });
  const seqs = (step) => step.applied.map((c) => c.seq);
  const out = {};

  // The rule: duplicates dropped, the next applied, a gap held and synced from lastSeq.
  const rule = new Feeds();
  rule.room("r1").followFrom(5, []);
  const gap = rule.handle(posted(9));
  out.rule = [seqs(rule.handle(posted(6))), seqs(rule.handle(posted(6))), seqs(rule.handle(posted(3))),
              seqs(rule.handle(posted(9))), rule.handle(posted(9)).send, rule.handle(posted(8)).send,
              seqs(rule.handle(posted(7))), rule.rooms.get("r1").lastSeq, gap.send.length];

  // The sync loops while hasMore against a feed that answers three changes at a time.
  const log = Array.from({ length: 10 }, (_, i) => posted(i + 1));
  log[6] = edited(7, 3, "edited while away");
  const asked = [];
  const answer = (frame) => {
    asked.push(frame.afterSeq);
    const page = log.filter((c) => c.seq > frame.afterSeq).slice(0, frame.limit);
    const seq = page.length ? page[page.length - 1].seq : frame.afterSeq;
    return { v: 2, type: "ack", action: actions.Sync, requestId: frame.requestId, roomId: frame.roomId, changes: page, seq, hasMore: seq < 10 };
  };
  const loop = new Feeds(3);
  loop.room("r1").followFrom(1, [message(1)]);
  const sends = loop.resync();
  const applied = [];
  while (sends.length) { const step = loop.handle(answer(sends.shift())); applied.push(...seqs(step)); sends.push(...step.send); }
  const room = loop.rooms.get("r1");
  out.loop = { asked, applied, lastSeq: room.lastSeq, edited: room.messages.get("m003").text, syncing: room.syncing };

  // Each change applied twice leaves the state of applying it once.
  const twice = new RoomFeed("r1");
  twice.followFrom(1, [message(1)]);
  const membership = { roomId: "r1", userId: "u2", role: "member", joinedAt: 1 };
  const state = () => JSON.stringify([[...twice.messages], [...twice.members]]);
  out.idempotent = [posted(2), edited(3, 2, "edited"), { ...edited(4, 1, "reacted"), type: "reaction.changed" },
    { ...edited(5, 2, ""), type: "message.deleted" }, { type: "member.joined", roomId: "r1", seq: 6, membership },
    edited(7, 99, "never loaded"), { type: "member.left", roomId: "r1", seq: 8, userId: "u2" },
  ].map((change) => { twice.apply(change); const once = state(); twice.apply(change); return once === state(); });
  out.state = JSON.parse(state());

  // feed_expired: the room is to be reloaded.
  const expired = new Feeds();
  expired.room("r1").followFrom(2, []);
  const [ask] = expired.resync();
  out.expired = expired.handle({ v: 2, type: "error", requestId: ask.requestId, error: { code: "feed_expired", message: "old" } });

  // Reconnect waits: the bound doubles to the cap; the draws spread over all of it.
  out.bounds = Array.from({ length: 10 }, (_, n) => reconnectDelayMs(n, () => 1));
  out.draws = Array.from({ length: 400 }, () => reconnectDelayMs(3));

  // After an open: subscribe, a v2 sync where the seq is known, a v1 sync where only ids are.
  feeds.room("r1").followFrom(4, []);
  store.history.lastSeen.set("r2", "m9");
  out.resume = resumeFrames(["r1", "r2", "r3"]);

  out.readers = readersOf("m5", new Map([["me", "m9"], ["u1", "m5"], ["u2", "m4"], ["u3", "m7"], ["u4", null]]), "me", new Map([["u1", "ann"], ["u3", "cy"]]));
  return out;
}"""


def test_the_feed_backoff_and_receipt_modules_in_the_browser(browser: Browser) -> None:
    """web/feed.js, socket.js's backoff and resume frames, and receipts.js's readers, run
    alone in Chromium: the rules docs/WEB.md states, without a stack."""

    def serve(route: Any) -> None:
        name = route.request.url.removeprefix(MODULES).lstrip("/")
        if not name:
            route.fulfill(content_type="text/html", body="<!doctype html><title>modules</title>")
        else:
            route.fulfill(content_type="text/javascript", body=(WEB_DIR / name).read_text())

    context = browser.new_context()
    page = context.new_page()
    page.route(f"{MODULES}/**", serve)
    page.goto(MODULES + "/")
    limits = stage_config.client_limits(Limits().max_text, 8)
    out = page.evaluate(
        FEED_SCENARIOS,
        {"actions": ACTIONS, "limits": limits, "changeTypes": list(ROOM_CHANGE_TYPES)},
    )
    context.close()

    sync = ACTIONS["Sync"]
    assert out["rule"] == [
        [6],
        [],
        [],
        [],
        [],
        [],
        [7, 8, 9],
        9,
        1,
    ]
    assert out["loop"] == {
        "asked": [1, 4, 7],
        "applied": list(range(2, 11)),
        "lastSeq": 10,
        "edited": "edited while away",
        "syncing": False,
    }
    assert out["idempotent"] == [True] * 7
    assert [m for m, _ in out["state"][0]] == ["m001", "m002"]
    assert out["state"][1] == []
    assert out["expired"] == {"applied": [], "send": [], "reload": ["r1"], "consumed": True}
    bounds = [min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2**n) for n in range(10)]
    assert out["bounds"] == bounds
    assert all(0 <= d < bounds[3] for d in out["draws"])
    assert min(out["draws"]) < bounds[3] * 0.1
    assert max(out["draws"]) > bounds[3] * 0.9
    assert out["resume"] == [
        {"action": ACTIONS["Subscribe"], "roomIds": ["r1", "r2", "r3"]},
        {
            "action": sync,
            "requestId": "sync-1",
            "roomId": "r1",
            "limit": limits["pageSizeMax"],
            "afterSeq": 4,
        },
        {"action": sync, "roomId": "r2", "afterId": "m9", "limit": limits["pageSizeMax"]},
    ]
    assert out["readers"] == ["ann", "cy"]


def test_seen_by_shows_under_my_newest_message(browser: Browser, site: GatewayStack) -> None:
    """ "seen by" comes from the members' read markers when the room opens, then moves with
    each `read` event (protocol v2), and only my newest message carries it."""
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    tag = os.urandom(3).hex()
    sign_up(page, site.web, f"writer{tag}")
    room_name = f"receipts {tag}"
    page.get_by_label("New room").fill(room_name)
    page.get_by_role("button", name="Create").click()
    current = page.locator("#room-list button[aria-current=true]")
    expect(current).to_have_text(f"# {room_name}")
    room_id = current.get_attribute("data-room-id")
    reader = User(site.api, "reader")
    reader.post(f"/rooms/{room_id}/join")

    def post(text: str) -> str:
        page.get_by_role("textbox", name="Message", exact=True).fill(text)
        page.keyboard.press("Enter")
        mine = page.locator("#messages li.message.mine", has_text=text)
        expect(mine).to_be_visible()
        return str(mine.get_attribute("data-id"))

    first = post("did you read this?")
    reader.post(f"/rooms/{room_id}/read", {"messageId": first})
    # At room open: the members' lastReadId.
    page.locator(f"#room-list button[data-room-id='{room_id}']").click()
    seen = page.locator("#messages .seen-by")
    expect(seen).to_have_text(f"seen by {reader.name}")
    expect(page.locator("#messages li.message", has_text="did you read this?")).to_contain_text(
        f"seen by {reader.name}"
    )

    second = post("and this one?")
    expect(seen).to_have_count(0)  # not read yet: no line, not even under the older one
    # Live: the `read` event of the reader's marker moving on.
    reader.post(f"/rooms/{room_id}/read", {"messageId": second})
    expect(seen).to_have_count(1)
    expect(page.locator("#messages li.message", has_text="and this one?")).to_contain_text(
        f"seen by {reader.name}"
    )
    context.close()
