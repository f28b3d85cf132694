// Rooms: load the list (page by page) and the public rooms to join, open a room with its
// presence and latest history, create, join or open a direct room, answer invites (nobody is a
// member of a room before accepting its invite), and the first run: a new user lands in the
// stage's lobby (config.json `lobby`), as `dynamotalk chat --room lobby` does.

import { api } from "./api.js";
import { $, toast } from "./dom.js";
import { feeds } from "./feed.js";
import { cancelEdit, clearNotice, clearQuote, composerNotice } from "./composer.js";
import { loadPins } from "./moderation.js";
import { closePanel, showRoomTools } from "./panel.js";
import { clearMessages, markRead, receive, scrollToEnd, showEmptyRoom } from "./messages.js";
import { updatePresence } from "./presence.js";
import { loadPublicRooms, renderPublicRooms } from "./publicrooms.js";
import { setReads } from "./receipts.js";
import { renderRooms, roomLabel } from "./roomlist.js";
import { send } from "./socket.js";
import { actions, history, limits, rooms, session } from "./store.js";
import { clearTyping } from "./typing.js";

export async function loadRooms() {
  // The room list comes in pages of at most pageSizeMax (each request's cost is bounded).
  let cursor = null;
  do {
    const page = await api("GET", `/rooms?limit=${limits.pageSizeMax}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    for (const summary of page.rooms) {
      const known = rooms.byId.get(summary.room.roomId);
      rooms.byId.set(summary.room.roomId, { ...known, room: summary.room, membership: summary.membership, unread: summary.unread, mentions: summary.unreadMentions || 0 });
    }
    cursor = page.nextCursor;
  } while (cursor);
  renderRooms();
  loadInvites();
  await loadPublicRooms();
}

/** After sign-in: open the lobby when I am in it; on the first run (in no room yet) join it
 * first. Someone who left the lobby and is in other rooms is left where they chose to be. */
export async function openFirstRoom() {
  const lobby = session.config.lobby;
  if (!lobby || rooms.current) return;
  try {
    if (rooms.byId.has(lobby)) return await openRoom(lobby);
    if (rooms.byId.size === 0) await joinRoom(lobby);
  } catch (error) { toast(error.message); }
}

/** Join a public room and open it. */
async function joinRoom(roomId) {
  await api("POST", `/rooms/${roomId}/join`);
  await loadRooms();
  await openRoom(roomId);
}

export async function loadInvites() {
  const { invites } = await api("GET", "/invites");
  $("invites-empty").hidden = invites.length > 0;
  $("invite-list").replaceChildren(...invites.map((invite) => {
    const li = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = `${invite.roomKind === "private" ? "🔒 " : "# "}${invite.roomName} — from ${invite.inviterName}`;
    li.append(label);
    for (const [answer, text] of [["accept", "Accept"], ["decline", "Decline"], ["block", "Block sender"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = answer === "accept" ? "" : "link";
      button.textContent = text;
      button.setAttribute("aria-label", `${text}: ${invite.roomName}`);
      button.addEventListener("click", () => answerInvite(invite.roomId, answer));
      li.append(" ", button);
    }
    return li;
  }));
}

async function answerInvite(roomId, answer) {
  try {
    await api("POST", `/invites/${encodeURIComponent(roomId)}/${answer}`);
    if (answer === "accept") {
      await loadRooms();
      send({ action: actions.Subscribe, roomIds: [roomId] });
      await openRoom(roomId);
    } else {
      await loadInvites();
    }
  } catch (error) { toast(error.message); }
}

/** Open a room: its presence, newest history and read markers. `reset` (its feed expired):
 * follow the feed afresh from this page. */
export async function openRoom(roomId, reset = false) {
  if (roomId !== rooms.current) { cancelEdit(); clearTyping(); clearQuote(); closePanel(); }
  rooms.current = roomId;
  $("app").classList.add("in-room");
  const entry = rooms.byId.get(roomId);
  $("room-title").textContent = roomLabel(entry.room);
  clearMessages();
  $("message-input").disabled = false;
  $("send").disabled = false;
  send({ action: actions.Subscribe, roomIds: [roomId] });
  const [{ members }, page, { members: markers }] = await Promise.all([
    api("GET", `/rooms/${roomId}/presence`),
    api("GET", `/rooms/${roomId}/messages?limit=30`),
    api("GET", `/rooms/${roomId}/members`),
  ]);
  if (roomId !== rooms.current) return;  // another room was opened meanwhile
  for (const m of members) rooms.names.set(m.userId, m.username);
  updatePresence(members);
  history.cursors.set(roomId, page.nextCursor);
  const feed = feeds.room(roomId);
  for (const m of markers) feed.members.set(m.userId, m);
  const mine = markers.find((m) => m.userId === session.me.userId);
  if (mine) entry.membership = mine;
  showRoomTools();
  showRoomState(roomId);
  loadPins(roomId).catch(() => {});
  // Follow the room's feed from the page's seq: changes after it arrive live or by sync.
  feeds.room(roomId).followFrom(page.seq, page.messages, reset);
  for (const message of [...page.messages].reverse()) receive(message, false);
  showEmptyRoom();
  setReads(roomId, markers);
  scrollToEnd();
  entry.unread = 0;
  entry.mentions = 0;
  renderRooms();
  const newest = page.messages[0];
  if (newest) markRead(roomId, newest.id);
  $("message-input").focus();
}

/** What the composer says of the room as it is: archived, or me muted (with until when). */
export function showRoomState(roomId) {
  if (roomId !== rooms.current) return;
  const entry = rooms.byId.get(roomId);
  clearNotice();
  if (entry.room.archived) composerNotice("room_archived");
  else if (entry.membership?.mutedUntil > Date.now()) composerNotice("muted", null, entry.membership.mutedUntil);
}

/** The room's feed expired (the page was away longer than the server keeps changes): load it
 * again. The open room is redrawn; another room just follows on from its newest page. */
export async function reloadRoom(roomId) {
  try {
    if (roomId === rooms.current) return await openRoom(roomId, true);
    const page = await api("GET", `/rooms/${roomId}/messages?limit=30`);
    feeds.room(roomId).followFrom(page.seq, page.messages, true);
  } catch (error) { toast(error.message); }
}

/** Show a room we just created or opened and go to it. */
async function enterRoom(room) {
  rooms.byId.set(room.roomId, { ...rooms.byId.get(room.roomId), room, unread: 0 });
  renderRooms();
  renderPublicRooms();
  await openRoom(room.roomId);
}

export function bindRooms() {
  $("room-list").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-room-id]");
    if (button) openRoom(button.dataset.roomId);
  });
  $("create-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const { room } = await api("POST", "/rooms", { name: $("create-name").value, kind: $("create-private").checked ? "private" : "public" });
      $("create-name").value = "";
      await enterRoom(room);
    } catch (error) { toast(error.message); }
  });
  $("public-list").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-join-room-id]");
    if (!button) return;
    button.disabled = true;
    try {
      await joinRoom(button.dataset.joinRoomId);
    } catch (error) { toast(error.message); button.disabled = false; }
  });
  $("dm-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const { room } = await api("POST", "/direct", { username: $("dm-name").value.trim() });
      $("dm-name").value = "";
      await enterRoom(room);
    } catch (error) { toast(error.message); }
  });
  $("back").addEventListener("click", () => {
    $("app").classList.remove("in-room");
    cancelEdit();
    rooms.current = null;
    closePanel();
    showRoomTools(false);
    renderRooms();
    loadPublicRooms().catch(() => {});  // fresh member counts
  });
}
