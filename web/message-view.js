// One message as the list shows it: author and time (hidden, but still read out, when it
// continues its author's group: messages.js), text, attachments, reaction chips, and a toolbar
// of actions (add reaction; edit and delete for the author) shown on hover or keyboard focus
// rather than under every message.

import { downloadUrl } from "./api.js";
import { startEdit } from "./composer.js";
import { pickerButton, reactionChips } from "./reactions.js";
import { send } from "./socket.js";
import { actions, rooms, session } from "./store.js";

export function authorName(message) {
  return rooms.names.get(message.authorId) || (message.authorId === session.me.userId ? session.me.username : "someone");
}

export function renderMessage(message) {
  const li = document.createElement("li");
  li.className = "message";
  li.tabIndex = 0;  // keyboard focus shows the toolbar, as hover does
  li.dataset.id = message.id;
  li.dataset.author = message.authorId;
  li.dataset.created = String(message.createdAt);
  li.classList.toggle("mine", message.authorId === session.me.userId);
  li.classList.toggle("deleted", message.deleted);
  const meta = document.createElement("div");
  meta.className = "meta";
  const author = document.createElement("strong");
  author.textContent = authorName(message);
  const time = document.createElement("time");
  time.dateTime = new Date(message.createdAt).toISOString();
  time.textContent = new Date(message.createdAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  meta.append(author);
  // authorKind is set by the server from the author id; a display name cannot fake the badge.
  if (message.authorKind && message.authorKind !== "user") {
    meta.append(Object.assign(document.createElement("span"), { className: "author-kind", textContent: message.authorKind }));
  }
  meta.append(time);
  const body = document.createElement("div");
  body.className = "body";
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = message.deleted ? "message deleted" : message.text;
  body.append(text);
  if (message.editedAt && !message.deleted) body.append(" ", Object.assign(document.createElement("span"), { className: "edited", textContent: "(edited)" }));
  li.append(meta, body);
  for (const attachment of message.attachments || []) li.append(renderAttachment(attachment));
  if (message.deleted) return li;
  const chips = reactionChips(message);
  if (chips) li.append(chips);
  li.append(toolbar(message, li));
  return li;
}

/** An image shows as a preview; any other file as a link opening it in a new tab. */
function renderAttachment(attachment) {
  if (attachment.contentType.startsWith("image/")) {
    const img = document.createElement("img");
    img.className = "preview";
    img.alt = attachment.name;
    downloadUrl(attachment.key).then((url) => { img.src = url; }).catch(() => { img.alt = `${attachment.name} (unavailable)`; });
    return img;
  }
  const link = document.createElement("a");
  link.textContent = `📄 ${attachment.name}`;
  link.href = "#";
  link.addEventListener("click", async (e) => { e.preventDefault(); window.open(await downloadUrl(attachment.key), "_blank", "noopener"); });
  return link;
}

/** Add a reaction, for everyone; Edit (in the composer) and Delete, for the author. */
function toolbar(message, li) {
  const row = document.createElement("div");
  row.className = "actions";
  row.setAttribute("role", "toolbar");
  row.setAttribute("aria-label", `Actions on the message from ${authorName(message)}`);
  row.append(pickerButton(message, li));
  if (message.authorId === session.me.userId) {
    const edit = Object.assign(document.createElement("button"), { type: "button", textContent: "Edit" });
    edit.addEventListener("click", () => startEdit(message.id, message.text));
    const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "Delete" });
    remove.addEventListener("click", () => {
      if (confirm("Delete this message?")) send({ action: actions.DeleteMessage, roomId: message.roomId, messageId: message.id });
    });
    row.append(edit, remove);
  }
  return row;
}
