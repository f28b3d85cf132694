// Read receipts in the open room: "seen by <names>" under my own newest message, for the other
// members whose read marker reached it. Markers come from GET /rooms/{roomId}/members
// (`lastReadId`) when the room opens, then from `read` events ({roomId, userId, messageId,
// upTo}). Message ids are ULIDs: comparing them as strings compares when they were posted.

import { receipts, rooms, session } from "./store.js";

/** Names of the members other than `me` whose marker is at or past `messageId`. */
export function readersOf(messageId, reads, me, names) {
  const readers = [];
  for (const [userId, lastReadId] of reads) {
    if (userId !== me && lastReadId && lastReadId >= messageId) readers.push(names.get(userId) || "someone");
  }
  return readers.sort();
}

/** The open room's markers, from GET members (at room open). */
export function setReads(roomId, members) {
  receipts.roomId = roomId;
  receipts.reads = new Map(members.map((m) => [m.userId, m.lastReadId]));
  showSeenBy();
}

/** A `read` event: a member's marker moved forward. */
export function readMoved(event) {
  if (event.roomId !== receipts.roomId || event.roomId !== rooms.current) return;
  const old = receipts.reads.get(event.userId);
  if (!old || event.messageId > old) receipts.reads.set(event.userId, event.messageId);
  showSeenBy();
}

/** A member left the open room: their marker no longer counts. */
export function forgetReader(roomId, userId) {
  if (roomId === receipts.roomId) { receipts.reads.delete(userId); showSeenBy(); }
}

/** Redraw the one "seen by" line under my newest message that is on screen. */
export function showSeenBy() {
  for (const old of document.querySelectorAll("#messages .seen-by")) old.remove();
  if (receipts.roomId !== rooms.current || !session.me) return;
  const mine = [...document.querySelectorAll("#messages li.message.mine")];
  const newest = mine[mine.length - 1];
  if (!newest) return;
  const readers = readersOf(newest.dataset.id, receipts.reads, session.me.userId, rooms.names);
  if (!readers.length) return;
  const line = document.createElement("div");
  line.className = "seen-by";
  line.textContent = `seen by ${readers.join(", ")}`;
  newest.append(line);
}
