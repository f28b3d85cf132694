// The open room's messages: live and synced ones placed in id order, older history loaded on
// scroll-up, edits, deletions and reactions redrawn in place, unread counts for other rooms,
// and read markers sent for what we have seen ("seen by" under ours: receipts.js). Messages one
// author sends within GROUP_MS of each other are grouped under one header, and an empty room
// or no open room says what to do. One message's view: message-view.js.

import { api } from "./api.js";
import { $, toast } from "./dom.js";
import { feeds } from "./feed.js";
import { renderMessage } from "./message-view.js";
import { showSeenBy } from "./receipts.js";
import { renderRooms } from "./roomlist.js";
import { send } from "./socket.js";
import { actions, history, rooms, session } from "./store.js";
import { inTimeline } from "./threads.js";
import { stopTyping } from "./typing.js";

/** A message continues its author's group when it follows their previous one within this. */
export const GROUP_MS = 5 * 60 * 1000;

const EMPTY_ROOM = "No messages yet. Say hello: write the first one below.";
const NO_ROOM = "Pick a room from your list, join a public room, or create one.";

/** Show a message (or count it as unread when its room is not open); `older` when it comes
 * from history above what is shown. */
export function receive(message, older) {
  if (!history.lastSeen.get(message.roomId) || message.id > history.lastSeen.get(message.roomId)) history.lastSeen.set(message.roomId, message.id);
  if (!older) stopTyping(message.roomId, message.authorId);  // their message is here: no longer typing
  if (!inTimeline(message)) return;  // a reply shown only in its thread (threads.js)
  if (message.roomId !== rooms.current) {
    const entry = rooms.byId.get(message.roomId);
    if (entry && message.authorId !== session.me.userId && !history.shown.has(message.id)) { entry.unread = (entry.unread || 0) + 1; renderRooms(); }
    return;
  }
  if (history.shown.has(message.id)) return replace(message);
  history.shown.add(message.id);
  const node = renderMessage(message);
  const list = $("messages");
  $("messages-empty")?.remove();
  if (older) { list.prepend(node); regroup(); showSeenBy(); return; }
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  // Keep id order even when a synced message arrives after a newer live one.
  const after = [...list.children].find((li) => li.dataset.id > message.id);
  list.insertBefore(node, after || null);
  regroup();
  if (atEnd || message.authorId === session.me.userId) scrollToEnd();
  if (message.authorId === session.me.userId) showSeenBy();
  else markRead(message.roomId, message.id);
}

/** Redraw a message on screen (edited, deleted, reacted to), keeping keyboard focus on it. */
export function replace(message) {
  const old = document.querySelector(`#messages li[data-id="${message.id}"]`);
  if (!old) return;
  const focused = old.contains(document.activeElement);
  const node = renderMessage(message);
  old.replaceWith(node);
  regroup();
  if (focused) node.focus();
  if (message.authorId === session.me.userId) showSeenBy();
}

/** Mark each message that continues its author's group: its header is then read out but not
 * shown. A deleted message, or one after a gap of GROUP_MS, starts a new group. */
export function regroup() {
  let previous = null;
  for (const li of $("messages").children) {
    if (!li.classList.contains("message")) { previous = null; continue; }
    const gap = previous ? Number(li.dataset.created) - Number(previous.dataset.created) : Infinity;
    const continues = previous && !previous.classList.contains("deleted") && previous.dataset.author === li.dataset.author && gap >= 0 && gap < GROUP_MS;
    li.classList.toggle("grouped", Boolean(continues));
    previous = li;
  }
}

/** Empty the message list for a room about to be shown (or for no room: `roomOpen` false). */
export function clearMessages(roomOpen = true) {
  const empty = Object.assign(document.createElement("li"), { id: "messages-empty", className: "empty muted" });
  empty.textContent = roomOpen ? "Loading messages…" : NO_ROOM;
  $("messages").replaceChildren(empty);
  history.shown.clear();
}

/** The room's history is in: an empty room says what to do. */
export function showEmptyRoom() {
  const empty = $("messages-empty");
  if (empty) empty.textContent = EMPTY_ROOM;
}

/** My newest message on screen that I may still edit, as {id, text}; null when none. */
export function lastOwnMessage(messages = $("messages")) {
  const mine = [...messages.querySelectorAll("li.message.mine:not(.deleted)")];
  const newest = mine[mine.length - 1];
  return newest ? { id: newest.dataset.id, text: newest.querySelector(".text").textContent } : null;
}

export function markRead(roomId, messageId) {
  send({ action: actions.MarkRead, roomId, messageId });
}

export function scrollToEnd() {
  const list = $("messages");
  list.scrollTop = list.scrollHeight;
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
    feeds.room(roomId).followFrom(null, page.messages);  // held, so thread counts can move
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
