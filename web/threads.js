// Threads (docs/PROTOCOL.md "Threads, quotes and mentions"): Reply on a message opens its thread
// in the side panel, the first message and its replies oldest first, paged on to newer ones
// (GET /rooms/{roomId}/messages/{messageId}/thread), with a composer whose "also send to room"
// box is Slack's "also send to channel". A reply the feed applies shows in the open thread; one
// sent also to the room shows in the timeline too (message-view.js marks it).

import { api } from "./api.js";
import { $, toast } from "./dom.js";
import { renderMessage } from "./message-view.js";
import { openPanel } from "./panel.js";
import { send } from "./socket.js";
import { actions, panel } from "./store.js";

/** Replies asked for per page of a thread. */
export const THREAD_PAGE = 10;

/** Open the thread of `messageId` in the side panel. */
export async function openThread(roomId, messageId) {
  const body = openPanel("thread", "Thread");
  panel.threadId = messageId;
  panel.roomId = roomId;
  panel.cursor = null;
  panel.replies = new Map();
  const list = Object.assign(document.createElement("ol"), { id: "thread-replies", className: "thread" });
  list.setAttribute("aria-label", "Replies");
  body.append(list);
  try {
    const page = await api("GET", `/rooms/${roomId}/messages/${messageId}/thread?limit=${THREAD_PAGE}`);
    if (panel.threadId !== messageId) return;
    const parent = renderMessage(page.parent, true);
    parent.classList.add("parent");
    list.before(parent);
    showPage(page);
    $("thread-input").focus();
  } catch (error) { toast(error.message); }
}

function showPage(page) {
  for (const reply of page.replies) showReply(reply);
  panel.cursor = page.nextCursor;
  $("thread-more")?.remove();
  if (!page.nextCursor) return;
  const more = Object.assign(document.createElement("button"), { id: "thread-more", type: "button", className: "link", textContent: "Newer replies" });
  more.addEventListener("click", loadMore);
  $("thread-replies").after(more);
}

async function loadMore() {
  const threadId = panel.threadId;
  try {
    const page = await api("GET", `/rooms/${panel.roomId}/messages/${threadId}/thread?limit=${THREAD_PAGE}&cursor=${encodeURIComponent(panel.cursor)}`);
    if (panel.threadId === threadId) showPage(page);
  } catch (error) { toast(error.message); }
}

/** Show (or redraw) one reply in the open thread, in id order. */
function showReply(reply) {
  const list = $("thread-replies");
  if (!list) return;
  const node = renderMessage(reply, true);
  const old = list.querySelector(`li[data-id="${reply.id}"]`);
  if (old) return old.replaceWith(node);
  panel.replies.set(reply.id, reply);
  const after = [...list.children].find((li) => li.dataset.id > reply.id);
  list.insertBefore(node, after || null);
}

/** A message the feed applied: a reply to the open thread is shown there (a reply still
 * paged out, past the cursor, waits for its page), and the thread's first message redrawn. */
export function threadChanged(message) {
  if (panel.kind !== "thread" || message.roomId !== panel.roomId) return;
  if (message.id === panel.threadId) {
    const node = renderMessage(message, true);
    node.classList.add("parent");
    document.querySelector("#panel-body > li.parent")?.replaceWith(node);
    return;
  }
  if (message.parentId !== panel.threadId) return;
  if (panel.cursor && !panel.replies.has(message.id)) return;
  showReply(message);
}

export function bindThreads() {
  $("thread-composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("thread-input");
    if (!input.value.trim() || !panel.threadId) return;
    const frame = { action: actions.SendMessage, roomId: panel.roomId, text: input.value, clientId: crypto.randomUUID(), parentId: panel.threadId };
    if ($("thread-also").checked) frame.alsoInRoom = true;
    if (send(frame)) { input.value = ""; $("thread-also").checked = false; } else toast("Not connected; your reply was kept, send it again in a moment.");
  });
}

/** Whether a message shows in its room's timeline (a reply only when also sent to the room). */
export function inTimeline(message) {
  return !message.parentId || Boolean(message.alsoInRoom);
}
