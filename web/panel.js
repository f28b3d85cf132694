// The open room's side panel: one of a thread (threads.js), the members with their roles and
// menus (members.js), the pinned messages, the room settings, or the audit log and reports
// queue (moderation.js). The header offers each one to those the permission table allows
// (permissions.js); the server checks again. Esc or Close shuts it.

import { $ } from "./dom.js";
import { showMembers } from "./members.js";
import { showModeration, showPins, showSettings } from "./moderation.js";
import { may } from "./permissions.js";
import { panel } from "./store.js";
import { bindThreads } from "./threads.js";

/** Show the panel for `kind` titled `title`; its emptied body, to fill. */
export function openPanel(kind, title) {
  panel.kind = kind;
  panel.threadId = null;
  $("panel-title").textContent = title;
  $("thread-composer").hidden = kind !== "thread";
  $("panel").hidden = false;
  const body = $("panel-body");
  body.replaceChildren();
  return body;
}

export function closePanel() {
  panel.kind = null;
  panel.threadId = null;
  $("panel").hidden = true;
}

/** The room header's buttons, as my role in the open room allows. */
export function showRoomTools(open = true) {
  $("room-tools").hidden = !open;
  $("show-settings").hidden = !(may("rename") || may("slowMode") || may("archive"));
  $("show-moderation").hidden = !may("moderate");
}

export function bindPanel() {
  bindThreads();
  $("panel-close").addEventListener("click", closePanel);
  $("panel").addEventListener("keydown", (event) => { if (event.key === "Escape") closePanel(); });
  $("show-members").addEventListener("click", showMembers);
  $("show-pins").addEventListener("click", showPins);
  $("show-settings").addEventListener("click", showSettings);
  $("show-moderation").addEventListener("click", showModeration);
}
