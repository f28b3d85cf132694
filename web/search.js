// Search (docs/PROTOCOL.md "Search"): the sidebar's box asks GET /search for messages with every
// word in my rooms, and lists them under it, newest first per room, with a "More" button while
// the server has a cursor. Picking a result opens its room and scrolls to the message (a reply
// seen only in its thread opens that thread); one older than the loaded page asks to scroll up.

import { api } from "./api.js";
import { $, toast } from "./dom.js";
import { authorName } from "./message-view.js";
import { roomLabel } from "./roomlist.js";
import { openRoom } from "./rooms.js";
import { openThread } from "./threads.js";
import { limits, rooms } from "./store.js";

/** Results asked for per page. */
export const SEARCH_PAGE = 10;
const state = { q: "", cursor: null };

async function search(more = false) {
  if (!more) { state.q = $("search-q").value.trim(); state.cursor = null; }
  if (!state.q) return;
  const cursor = more && state.cursor ? `&cursor=${encodeURIComponent(state.cursor)}` : "";
  try {
    const page = await api("GET", `/search?q=${encodeURIComponent(state.q)}&limit=${SEARCH_PAGE}${cursor}`);
    const list = $("search-results");
    if (!more) list.replaceChildren();
    for (const result of page.results) list.append(resultItem(result.message, page.terms));
    state.cursor = page.nextCursor;
    $("search-more").hidden = !page.nextCursor;
    $("search-empty").hidden = list.children.length > 0 || Boolean(page.nextCursor);
    list.hidden = false;
  } catch (error) { toast(error.message); }
}

/** The text with the words the server matched (`terms`) marked, compared after NFKC and lower-casing (the server also case-folds: `ß` is marked only as `ss`). */
function highlighted(text, terms) {
  const wanted = new Set(terms);
  return text.split(/([\p{L}\p{N}]+)/u).map((part) => {
    if (!wanted.has(part.normalize("NFKC").toLowerCase())) return document.createTextNode(part);
    return Object.assign(document.createElement("mark"), { textContent: part });
  });
}

function resultItem(message, terms) {
  const li = document.createElement("li");
  const button = Object.assign(document.createElement("button"), { type: "button", className: "link search-hit" });
  button.dataset.roomId = message.roomId;
  button.dataset.messageId = message.id;
  const entry = rooms.byId.get(message.roomId);
  const where = Object.assign(document.createElement("span"), { className: "muted", textContent: `${entry ? roomLabel(entry.room) : "room"} · ${authorName(message)}: ` });
  button.append(where, ...highlighted(message.text, terms));
  button.addEventListener("click", () => jumpTo(message));
  li.append(button);
  return li;
}

/** Open the message's room and bring the message into view (or its thread). */
export async function jumpTo(message) {
  try {
    await openRoom(message.roomId);
    if (message.parentId && !message.alsoInRoom) return await openThread(message.roomId, message.parentId);
    const node = document.querySelector(`#messages li[data-id="${message.id}"]`);
    if (!node) return toast("That message is older than the loaded page: scroll up to it.");
    node.scrollIntoView({ block: "center" });
    node.classList.add("found");
    node.focus?.();
  } catch (error) { toast(error.message); }
}

export function bindSearch() {
  $("search-q").maxLength = limits.searchMaxChars;
  $("search-form").addEventListener("submit", (event) => { event.preventDefault(); search(false); });
  $("search-more").addEventListener("click", () => search(true));
}
