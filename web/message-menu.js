// A message's "More" menu: quote it in the composer, pin or unpin it, delete it as a moderator
// (someone else's, of a lower role), report it (a reason), block its author. Each item is
// offered where the permission table allows it (permissions.js); the server checks again.

import { api } from "./api.js";
import { toast } from "./dom.js";
import { choose } from "./dialog.js";
import { setQuote } from "./composer.js";
import { feeds } from "./feed.js";
import { isMine, may, myMembership, rank } from "./permissions.js";
import { blockUser } from "./members.js";
import { send } from "./socket.js";
import { actions, compose, pinned } from "./store.js";

/** The reasons a report may give (docs/PROTOCOL.md "Blocking and reports"). */
export const REPORT_REASONS = ["spam", "harassment", "hate", "violence", "sexual", "other"];

export async function moreActions(message) {
  const roomId = message.roomId;
  const authorRole = feeds.room(roomId).members.get(message.authorId)?.role;
  const options = [{ label: "Quote", value: "quote" }];
  if (may("pin", roomId)) options.push(pinned.ids.has(message.id) ? { label: "Unpin", value: "unpin" } : { label: "Pin", value: "pin" });
  if (!isMine(message)) {
    // A moderator deletes the messages of lower roles, and of authors who left.
    if (may("deleteOthers", roomId) && (authorRole == null || rank(myMembership(roomId).role) > rank(authorRole))) {
      options.push({ label: "Delete (moderator)", value: "delete", danger: true });
    }
    if (may("report", roomId)) options.push({ label: "Report", value: "report" });
    if (!compose.blocked.has(message.authorId)) options.push({ label: "Block author", value: "block", danger: true });
  }
  const choice = await choose("Message actions", options);
  try {
    switch (choice) {
      case "quote": return setQuote(message);
      case "pin": return await api("POST", `/rooms/${roomId}/pins`, { messageId: message.id });
      case "unpin": return await api("DELETE", `/rooms/${roomId}/pins/${message.id}`);
      case "delete":
        if (confirm("Delete this message for everyone?")) send({ action: actions.DeleteMessage, roomId, messageId: message.id });
        return;
      case "report": return await report(message);
      case "block": return await blockUser(message.authorId);
    }
  } catch (error) { toast(error.message); }
}

async function report(message) {
  const reason = await choose("Why report this message?", REPORT_REASONS.map((r) => ({ label: r, value: r })));
  if (!reason) return;
  await api("POST", `/rooms/${message.roomId}/messages/${message.id}/report`, { reason });
  toast("Reported. The room's admins will look at it.");
}
