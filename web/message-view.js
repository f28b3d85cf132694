// One message as the list shows it: author and time (hidden, but still read out, when it
// continues its author's group: messages.js), a quote's snapshot, text with @mentions (mine
// highlighted), attachments, reaction chips, a thread's "N replies" link, and a toolbar of
// actions shown on hover or keyboard focus: add reaction, Reply (a thread), Edit and Delete on
// my own, and "More" (quote, pin, a moderator's delete, report, block) as the permission table
// allows (permissions.js). A blocked author's message is a collapsed stub.

import { downloadUrl } from "./api.js";
import { startEdit } from "./composer.js";
import { when } from "./dialog.js";
import { moreActions } from "./message-menu.js";
import { isMine } from "./permissions.js";
import { pickerButton, reactionChips } from "./reactions.js";
import { send } from "./socket.js";
import { actions, rooms, session } from "./store.js";
import { openThread } from "./threads.js";

export function authorName(message) {
  return rooms.names.get(message.authorId) || (message.authorId === session.me.userId ? session.me.username : "someone");
}

/** Whether a message calls me: it mentions me, or everyone (`@room` / `@here`). */
export function mentionsMe(message) {
  return Boolean(message.mentionsAll) || (message.mentions || []).includes(session.me.userId);
}

export function renderMessage(message, inThread = false) {
  const li = document.createElement("li");
  li.className = "message";
  li.tabIndex = 0;  // keyboard focus shows the toolbar, as hover does
  li.dataset.id = message.id;
  li.dataset.author = message.authorId;
  li.dataset.created = String(message.createdAt);
  li.classList.toggle("mine", isMine(message));
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
  if (message.hidden === "blocked") {
    li.classList.add("blocked");
    li.append(meta, Object.assign(document.createElement("div"), { className: "body muted", textContent: "Message from a blocked user" }));
    return li;
  }
  if (message.parentId && !inThread) {
    const marker = Object.assign(document.createElement("button"), { type: "button", className: "link replied", textContent: "replied to a thread" });
    marker.addEventListener("click", () => openThread(message.roomId, message.parentId));
    meta.append(marker);
  }
  const body = document.createElement("div");
  body.className = "body";
  if (message.quote && !message.deleted) body.append(renderQuote(message.quote));
  const text = document.createElement("span");
  text.className = "text";
  if (message.deleted) text.textContent = message.deletedBy && message.deletedBy !== message.authorId ? "message deleted by a moderator" : "message deleted";
  else text.append(...withMentions(message));
  body.append(text);
  if (message.editedAt && !message.deleted) body.append(" ", Object.assign(document.createElement("span"), { className: "edited", textContent: "(edited)" }));
  li.classList.toggle("mentions-me", !message.deleted && mentionsMe(message));
  li.append(meta, body);
  for (const attachment of message.attachments || []) li.append(renderAttachment(attachment));
  if (message.replyCount && !inThread) li.append(threadLink(message));
  if (message.deleted) return li;
  const chips = reactionChips(message);
  if (chips) li.append(chips);
  li.append(toolbar(message, li, inThread));
  return li;
}

/** The text, each `@name` a span and those naming me (or everyone) marked. */
function withMentions(message) {
  const me = session.me.username.toLowerCase();
  const calls = mentionsMe(message);
  return message.text.split(/(?<![\p{L}\p{N}@])(@[\p{L}\p{N}_.-]*[\p{L}\p{N}_-])/u).map((part, i) => {
    if (i % 2 === 0) return document.createTextNode(part);
    const name = part.slice(1).toLowerCase();
    const mine = calls && (name === me || name === "room" || name === "here");
    const span = document.createElement(mine ? "mark" : "span");
    span.className = mine ? "mention me" : "mention";
    span.textContent = part;
    return span;
  });
}

function renderQuote(quote) {
  const block = document.createElement("blockquote");
  block.className = "quote";
  const who = Object.assign(document.createElement("cite"), { textContent: `${quote.authorName} · ${when(quote.createdAt)}` });
  block.append(who, Object.assign(document.createElement("p"), { textContent: quote.text }));
  return block;
}

/** "3 replies · last at 10:42": opens the thread. */
function threadLink(message) {
  const link = Object.assign(document.createElement("button"), { type: "button", className: "link thread-link" });
  const count = message.replyCount;
  link.textContent = `${count} ${count === 1 ? "reply" : "replies"}${message.lastReplyAt ? ` · last at ${when(message.lastReplyAt)}` : ""}`;
  link.addEventListener("click", () => openThread(message.roomId, message.id));
  return link;
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

/** Add a reaction and Reply, for everyone; Edit (in the composer) and Delete, for the author;
 * More for the rest (threads.js). */
function toolbar(message, li, inThread) {
  const row = document.createElement("div");
  row.className = "actions";
  row.setAttribute("role", "toolbar");
  row.setAttribute("aria-label", `Actions on the message from ${authorName(message)}`);
  row.append(pickerButton(message, li));
  if (!message.parentId && !inThread) {
    const reply = Object.assign(document.createElement("button"), { type: "button", textContent: "Reply" });
    reply.setAttribute("aria-label", "Reply in thread");
    reply.addEventListener("click", () => openThread(message.roomId, message.id));
    row.append(reply);
  }
  if (isMine(message)) {
    const edit = Object.assign(document.createElement("button"), { type: "button", textContent: "Edit" });
    edit.addEventListener("click", () => startEdit(message.id, message.text));
    const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "Delete" });
    remove.addEventListener("click", () => {
      if (confirm("Delete this message?")) send({ action: actions.DeleteMessage, roomId: message.roomId, messageId: message.id });
    });
    row.append(edit, remove);
  }
  const more = Object.assign(document.createElement("button"), { type: "button", textContent: "⋯" });
  more.setAttribute("aria-label", "More actions");
  more.addEventListener("click", () => moreActions(message));
  row.append(more);
  return row;
}
