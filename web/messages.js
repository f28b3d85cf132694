// The open room's messages: live and synced ones placed in id order, older history loaded on
// scroll-up, edits, deletions and reactions redrawn in place, unread counts for other rooms,
// and read markers sent for what we have seen ("seen by" under ours: receipts.js).

import { api, downloadUrl } from "./api.js";
import { $, toast } from "./dom.js";
import { showSeenBy } from "./receipts.js";
import { renderRooms } from "./roomlist.js";
import { send } from "./socket.js";
import { actions, history, rooms, session } from "./store.js";

const REACTIONS = ["👍", "🎉", "❤️"];

/** Show a message (or count it as unread when its room is not open); `older` when it comes
 * from history above what is shown. */
export function receive(message, older) {
  if (!history.lastSeen.get(message.roomId) || message.id > history.lastSeen.get(message.roomId)) history.lastSeen.set(message.roomId, message.id);
  if (message.roomId !== rooms.current) {
    const entry = rooms.byId.get(message.roomId);
    if (entry && message.authorId !== session.me.userId && !history.shown.has(message.id)) { entry.unread = (entry.unread || 0) + 1; renderRooms(); }
    return;
  }
  if (history.shown.has(message.id)) return replace(message);
  history.shown.add(message.id);
  const node = renderMessage(message);
  const list = $("messages");
  if (older) { list.prepend(node); showSeenBy(); return; }
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  // Keep id order even when a synced message arrives after a newer live one.
  const after = [...list.children].find((li) => li.dataset.id > message.id);
  list.insertBefore(node, after || null);
  if (atEnd || message.authorId === session.me.userId) scrollToEnd();
  if (message.authorId === session.me.userId) showSeenBy();
  else markRead(message.roomId, message.id);
}

/** Redraw a message on screen (edited, deleted, reacted to). */
export function replace(message) {
  const old = document.querySelector(`#messages li[data-id="${message.id}"]`);
  if (!old) return;
  old.replaceWith(renderMessage(message));
  if (message.authorId === session.me.userId) showSeenBy();
}

/** Empty the message list for a room about to be shown. */
export function clearMessages() {
  $("messages").replaceChildren();
  history.shown.clear();
}

export function markRead(roomId, messageId) {
  send({ action: actions.MarkRead, roomId, messageId });
}

export function scrollToEnd() {
  const list = $("messages");
  list.scrollTop = list.scrollHeight;
}

function renderMessage(message) {
  const li = document.createElement("li");
  li.className = "message";
  li.dataset.id = message.id;
  li.classList.toggle("mine", message.authorId === session.me.userId);
  li.classList.toggle("deleted", message.deleted);
  const meta = document.createElement("div");
  meta.className = "meta";
  const author = document.createElement("strong");
  author.textContent = rooms.names.get(message.authorId) || (message.authorId === session.me.userId ? session.me.username : "someone");
  const time = document.createElement("time");
  time.dateTime = new Date(message.createdAt).toISOString();
  time.textContent = new Date(message.createdAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  meta.append(author);
  // authorKind is set by the server from the author id; a display name cannot fake the badge.
  if (message.authorKind && message.authorKind !== "user") {
    meta.append(Object.assign(document.createElement("span"), { className: "author-kind", textContent: message.authorKind }));
  }
  meta.append(time);
  if (message.editedAt && !message.deleted) meta.append(Object.assign(document.createElement("span"), { textContent: "(edited)" }));
  const text = document.createElement("div");
  text.className = "text";
  text.textContent = message.deleted ? "message deleted" : message.text;
  li.append(meta, text);
  for (const attachment of message.attachments || []) li.append(renderAttachment(attachment));
  if (!message.deleted) li.append(messageActions(message));
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

/** Reaction toggles for everyone; Edit and Delete for the author. */
function messageActions(message) {
  const row = document.createElement("div");
  row.className = "actions";
  const ids = { roomId: message.roomId, messageId: message.id };
  for (const emoji of REACTIONS) {
    const users = message.reactions?.[emoji] || []; // a sample of at most 3 reactors
    const count = message.reactionCounts?.[emoji] ?? users.length;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = count ? `${emoji} ${count}` : emoji;
    button.setAttribute("aria-pressed", String(users.includes(session.me.userId)));
    button.setAttribute("aria-label", `React with ${emoji}`);
    button.addEventListener("click", () => send({ action: actions.React, ...ids, emoji }));
    row.append(button);
  }
  if (message.authorId === session.me.userId) {
    const edit = Object.assign(document.createElement("button"), { type: "button", textContent: "Edit" });
    edit.addEventListener("click", () => {
      const text = prompt("Edit message", message.text);
      if (text !== null && text.trim()) send({ action: actions.EditMessage, ...ids, text });
    });
    const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "Delete" });
    remove.addEventListener("click", () => {
      if (confirm("Delete this message?")) send({ action: actions.DeleteMessage, ...ids });
    });
    row.append(edit, remove);
  }
  return row;
}

async function loadOlder() {
  const roomId = rooms.current;
  const cursor = history.cursors.get(roomId);
  if (!roomId || !cursor || history.loadingOlder) return;
  history.loadingOlder = true;
  const list = $("messages");
  const before = list.scrollHeight;
  try {
    const page = await api("GET", `/rooms/${roomId}/messages?limit=30&cursor=${encodeURIComponent(cursor)}`);
    if (roomId !== rooms.current) return;
    history.cursors.set(roomId, page.nextCursor);
    for (const message of page.messages) receive(message, true);
    list.scrollTop += list.scrollHeight - before;  // keep the reader where they were
  } catch (error) {
    toast(error.message);
  } finally {
    history.loadingOlder = false;
  }
}

export function bindMessages() {
  $("messages").addEventListener("scroll", () => { if ($("messages").scrollTop < 40) loadOlder(); });
}
