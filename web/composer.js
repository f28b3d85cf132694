// The message box: send text (kept when the socket is down), attach a file through a presigned
// upload, tell the room we are typing, and edit: Up in the empty box (or a message's Edit
// button) puts one of my messages in the box, Enter saves it, Esc cancels and gives the draft
// back. A quote chip (a message's "Quote") goes with the next message sent; a refusal because
// the room is archived, I am muted or slow mode holds me back shows as a notice above the box,
// with when I may post again.

import { upload } from "./api.js";
import { $, toast } from "./dom.js";
import { hide as hideSuggestions } from "./mention-complete.js";
import { lastOwnMessage } from "./messages.js";
import { send } from "./socket.js";
import { actions, compose, editing, rooms } from "./store.js";
import { when } from "./dialog.js";
import { sentMessage, tellTyping } from "./typing.js";

/** Put my message `messageId` (its text `text`) in the box to edit it. */
export function startEdit(messageId, text) {
  const input = $("message-input");
  if (!editing.messageId) editing.draft = input.value;
  editing.messageId = messageId;
  input.value = text;
  $("editing").hidden = false;
  $("composer").classList.add("editing");
  $("send").textContent = "Save";
  input.focus();
  input.setSelectionRange(text.length, text.length);
}

/** Leave edit mode; the draft set aside comes back. */
export function cancelEdit() {
  if (!editing.messageId) return;
  editing.messageId = null;
  $("message-input").value = editing.draft;
  editing.draft = "";
  $("editing").hidden = true;
  $("composer").classList.remove("editing");
  $("send").textContent = "Send";
}

/** The error codes shown as a notice in the composer (docs/PROTOCOL.md "Roles and moderation"). */
const NOTICES = {
  muted: (until) => `You are muted in this room${until ? ` until ${when(until)}` : ""}.`,
  slow_mode: (until) => `Slow mode is on: you may post again at ${new Date(until).toLocaleTimeString()}.`,
  room_archived: () => "This room is archived: it can be read but not changed.",
};
let noticeTimer = null;

/** Show a refusal the composer explains (muted, slow_mode, room_archived); false for others. */
export function composerNotice(code, retryAfterMs = null, until = null) {
  if (!(code in NOTICES)) return false;
  const end = until ?? (retryAfterMs != null ? Date.now() + retryAfterMs : null);
  const notice = $("composer-notice");
  notice.textContent = NOTICES[code](end);
  notice.dataset.code = code;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  if (end) noticeTimer = setTimeout(clearNotice, Math.max(0, end - Date.now()) + 500);
  return true;
}

export function clearNotice(code = null) {
  const notice = $("composer-notice");
  if (code && notice.dataset.code !== code) return;
  notice.hidden = true;
  notice.textContent = "";
  delete notice.dataset.code;
}

/** Quote `message` in the next message sent (a chip above the box, × removes it). */
export function setQuote(message) {
  compose.quote = message;
  const chip = $("quote-chip");
  chip.querySelector("span").textContent = `Quoting ${rooms.names.get(message.authorId) || "a message"}: ${message.text.slice(0, 80)}`;
  chip.hidden = false;
  $("message-input").focus();
}

export function clearQuote() {
  compose.quote = null;
  $("quote-chip").hidden = true;
}

function submit() {
  const input = $("message-input");
  const text = input.value;
  if (!rooms.current) return;
  if (editing.messageId) {
    if (!text.trim()) return toast("A message cannot be empty; delete it instead.");
    if (!send({ action: actions.EditMessage, roomId: rooms.current, messageId: editing.messageId, text })) {
      return toast("Not connected; your edit was kept, save it again in a moment.");
    }
    return cancelEdit();
  }
  if (!text.trim()) return;
  const frame = { action: actions.SendMessage, roomId: rooms.current, text, clientId: crypto.randomUUID() };
  if (compose.quote && compose.quote.roomId === rooms.current) frame.quote = { messageId: compose.quote.id };
  if (send(frame)) {
    input.value = "";
    clearQuote();
    hideSuggestions();
    sentMessage();
  } else toast("Not connected; your message was kept, send it again in a moment.");
}

export function bindComposer() {
  $("composer").addEventListener("submit", (event) => { event.preventDefault(); submit(); });
  $("message-input").addEventListener("input", () => { if (!editing.messageId) tellTyping(); });
  $("message-input").addEventListener("keydown", (event) => {
    if (event.key === "Escape" && editing.messageId) { event.preventDefault(); cancelEdit(); return; }
    if (event.key === "ArrowUp" && !editing.messageId && event.target.value === "") {
      const last = lastOwnMessage();
      if (last) { event.preventDefault(); startEdit(last.id, last.text); }
    }
  });
  $("quote-cancel").addEventListener("click", () => { clearQuote(); $("message-input").focus(); });
  $("edit-cancel").addEventListener("click", () => { cancelEdit(); $("message-input").focus(); });
  $("file-input").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file || !rooms.current) return;
    try {
      const key = await upload("attachment", file, rooms.current);
      send({
        action: actions.SendMessage, roomId: rooms.current, text: editing.messageId ? "" : $("message-input").value, clientId: crypto.randomUUID(),
        attachments: [{ key, name: file.name, contentType: file.type, size: file.size }],
      });
      if (!editing.messageId) $("message-input").value = "";
    } catch (error) {
      toast(error.message);
    }
  });
}
