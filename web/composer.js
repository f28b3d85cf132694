// The message box: send text (kept when the socket is down), attach a file through a presigned
// upload, tell the room we are typing, and edit: Up in the empty box (or a message's Edit
// button) puts one of my messages in the box, Enter saves it, Esc cancels and gives the draft
// back.

import { upload } from "./api.js";
import { $, toast } from "./dom.js";
import { lastOwnMessage } from "./messages.js";
import { send } from "./socket.js";
import { actions, editing, rooms } from "./store.js";
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
  if (send({ action: actions.SendMessage, roomId: rooms.current, text, clientId: crypto.randomUUID() })) {
    input.value = "";
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
