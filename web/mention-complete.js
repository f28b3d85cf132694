// `@name` completion in the message box: while the word at the caret starts with "@", the open
// room's members whose names start with what follows are offered (at most MAX_SUGGESTIONS) as
// buttons under the box; a click or Tab puts "@name " in its place. The server resolves mentions
// to members only, so offering members only is what will work.

import { $ } from "./dom.js";
import { feeds } from "./feed.js";
import { rooms, session } from "./store.js";

export const MAX_SUGGESTIONS = 5;
const WORD = /(?:^|\s)@([\p{L}\p{N}_.-]*)$/u;

function candidates(prefix) {
  if (!rooms.current) return [];
  const wanted = prefix.toLowerCase();
  const names = [...feeds.room(rooms.current).members.keys()]
    .filter((id) => id !== session.me.userId)
    .map((id) => rooms.names.get(id))
    .filter((name) => name && name.toLowerCase().startsWith(wanted));
  return names.sort().slice(0, MAX_SUGGESTIONS);
}

function complete(name) {
  const input = $("message-input");
  const before = input.value.slice(0, input.selectionStart);
  const after = input.value.slice(input.selectionStart);
  const start = before.lastIndexOf("@");
  input.value = `${before.slice(0, start)}@${name} ${after}`;
  const caret = start + name.length + 2;
  input.setSelectionRange(caret, caret);
  hide();
  input.focus();
}

/** Offer nothing (the message was sent, or another room opened). */
export function hide() {
  $("mention-suggestions").hidden = true;
  $("mention-suggestions").replaceChildren();
}

function suggest() {
  const input = $("message-input");
  const match = WORD.exec(input.value.slice(0, input.selectionStart));
  const names = match ? candidates(match[1]) : [];
  if (!names.length) return hide();
  $("mention-suggestions").replaceChildren(...names.map((name) => {
    const button = Object.assign(document.createElement("button"), { type: "button", className: "link", textContent: `@${name}` });
    button.addEventListener("pointerdown", (event) => event.preventDefault());  // the box keeps focus
    button.addEventListener("click", () => complete(name));
    return button;
  }));
  $("mention-suggestions").hidden = false;
}

export function bindMentionCompletion() {
  const input = $("message-input");
  input.addEventListener("input", suggest);
  input.addEventListener("keydown", (event) => {
    const first = $("mention-suggestions").querySelector("button");
    if (event.key === "Tab" && first && !$("mention-suggestions").hidden) { event.preventDefault(); first.click(); }
    if (event.key === "Escape") hide();
  });
}
