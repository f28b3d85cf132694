// The side panel's moderation views: pinned messages (anyone who reads the room; Unpin for those
// who may pin), the room settings form for admins (rename, slow mode, archive or unarchive), and
// for those who may `moderate` the reports queue (resolve: dismissed or actioned) and the audit
// log. What each may see is the permission table's (permissions.js); the server checks again.

import { api } from "./api.js";
import { toast } from "./dom.js";
import { duration, when } from "./dialog.js";
import { openPanel } from "./panel.js";
import { may } from "./permissions.js";
import { panel, pinned, rooms } from "./store.js";
import { retentionField } from "./retention.js";

/** Slow mode intervals offered, in seconds (0: off; the server bounds them: MAX_SLOW_MODE_S). */
export const SLOW_MODE_SECONDS = [0, 10, 30, 60, 300, 3600];

const el = (tag, props = {}) => Object.assign(document.createElement(tag), props);
const name = (userId) => rooms.names.get(userId) || userId;

/** The open room's pins, for the message menus (Pin or Unpin). */
export async function loadPins(roomId) {
  const { pins } = await api("GET", `/rooms/${roomId}/pins`);
  if (roomId !== rooms.current) return pins;
  pinned.roomId = roomId;
  pinned.ids = new Set(pins.map((p) => p.messageId));
  return pins;
}

export async function showPins() {
  const roomId = rooms.current;
  const body = openPanel("pins", "Pinned messages");
  try {
    const pins = await loadPins(roomId);
    if (panel.kind !== "pins" || rooms.current !== roomId) return;
    if (!pins.length) return body.replaceChildren(el("p", { className: "empty muted", textContent: "No pinned messages. Pin one from a message's ⋯ menu." }));
    const list = el("ul", { className: "pins" });
    for (const pin of pins) {
      const li = el("li");
      li.dataset.messageId = pin.messageId;
      li.append(el("strong", { textContent: name(pin.authorId) }), " ", el("span", { className: "muted", textContent: `pinned by ${name(pin.pinnedBy)} · ${when(pin.pinnedAt)}` }), el("p", { textContent: pin.text }));
      if (may("pin", roomId)) {
        const unpin = el("button", { type: "button", className: "link", textContent: "Unpin" });
        unpin.addEventListener("click", () => api("DELETE", `/rooms/${roomId}/pins/${pin.messageId}`).catch((e) => toast(e.message)));
        li.append(unpin);
      }
      list.append(li);
    }
    body.replaceChildren(list);
  } catch (error) { toast(error.message); }
}

/** A message.pinned / message.unpinned change: the menus follow, the open pins panel redraws. */
export function pinsChanged(change) {
  if (change.roomId !== pinned.roomId) return;
  if (change.pin) pinned.ids.add(change.pin.messageId); else pinned.ids.delete(change.messageId);
  if (panel.kind === "pins" && rooms.current === change.roomId) showPins();
}

export function showSettings() {
  const roomId = rooms.current;
  const room = rooms.byId.get(roomId).room;
  const body = openPanel("settings", "Room settings");
  const form = el("form", { className: "stack" });
  form.setAttribute("aria-label", "Room settings");
  const nameInput = el("input", { id: "settings-name", value: room.name, disabled: !may("rename") });
  const slow = el("select", { id: "settings-slow", disabled: !may("slowMode") });
  for (const s of SLOW_MODE_SECONDS) slow.append(el("option", { value: String(s), textContent: s ? `one message every ${duration(s)}` : "off", selected: (room.slowModeSeconds || 0) === s }));
  const archived = el("input", { id: "settings-archived", type: "checkbox", checked: Boolean(room.archived), disabled: !may("archive") });
  const archiveLabel = el("label", { className: "inline" });
  archiveLabel.append(archived, " archived (read-only)");
  const keep = retentionField(room);
  form.append(el("label", { htmlFor: "settings-name", textContent: "Room name" }), nameInput,
    el("label", { htmlFor: "settings-slow", textContent: "Slow mode" }), slow, archiveLabel,
    ...keep.nodes,
    el("button", { type: "submit", textContent: "Save" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const change = {};
    if (may("rename") && nameInput.value !== room.name) change.name = nameInput.value;
    if (may("slowMode") && Number(slow.value) !== (room.slowModeSeconds || 0)) change.slowModeSeconds = Number(slow.value);
    if (may("archive") && archived.checked !== Boolean(room.archived)) change.archived = archived.checked;
    keep.collect(change);
    try {
      if (Object.keys(change).length) await api("PATCH", `/rooms/${roomId}`, change);
      toast("Room settings saved.");
    } catch (error) { toast(error.message); }
  });
  body.append(form);
}

export async function showModeration() {
  const roomId = rooms.current;
  const body = openPanel("moderation", "Moderation");
  try {
    const [{ reports }, { entries }] = await Promise.all([
      api("GET", `/rooms/${roomId}/reports`), api("GET", `/rooms/${roomId}/audit?limit=50`),
    ]);
    if (panel.kind !== "moderation" || rooms.current !== roomId) return;
    const queue = el("ul", { className: "reports" });
    queue.setAttribute("aria-label", "Open reports");
    for (const report of reports) queue.append(reportItem(roomId, report));
    const log = el("ul", { className: "audit" });
    log.setAttribute("aria-label", "Audit log");
    for (const e of entries) {
      const target = e.targetUserId ? ` ${name(e.targetUserId)}` : "";
      log.append(el("li", { textContent: `${when(e.at)} ${name(e.actorId)}: ${e.action}${target}${e.detail ? ` (${e.detail})` : ""}` }));
    }
    body.replaceChildren(el("h4", { textContent: "Reports" }),
      reports.length ? queue : el("p", { className: "empty muted", textContent: "No open reports." }),
      el("h4", { textContent: "Audit log" }),
      entries.length ? log : el("p", { className: "empty muted", textContent: "Nothing recorded yet." }));
  } catch (error) { toast(error.message); }
}

function reportItem(roomId, report) {
  const li = el("li");
  li.dataset.reportId = report.id;
  li.append(el("strong", { textContent: report.reason }), " ",
    el("span", { className: "muted", textContent: `by ${name(report.reporterId)} · ${when(report.createdAt)}` }),
    el("blockquote", { className: "quote", textContent: `${name(report.message.authorId)}: ${report.message.text}` }));
  for (const outcome of ["dismissed", "actioned"]) {
    const button = el("button", { type: "button", className: "link", textContent: outcome === "dismissed" ? "Dismiss" : "Mark actioned" });
    button.addEventListener("click", async () => {
      try {
        await api("POST", `/rooms/${roomId}/reports/${report.id}/resolve`, { outcome });
        await showModeration();
      } catch (error) { toast(error.message); }
    });
    li.append(" ", button);
  }
  return li;
}
