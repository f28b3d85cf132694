// What the server sends on the socket (event types and acks, docs/PROTOCOL.md), routed to the
// view it changes. Room changes go through their room's feed first (feed.js): a duplicate is
// dropped, a gap is synced, and only what the feed applied is shown. Frames of protocol v1 and
// v2 are both taken ("v" is not checked: v2 only adds fields).

import { toast } from "./dom.js";
import { feeds } from "./feed.js";
import { receive, replace } from "./messages.js";
import { presenceChanged, refreshPresence } from "./presence.js";
import { noteReaction } from "./reactions.js";
import { forgetReader, readMoved } from "./receipts.js";
import { forgetRoom } from "./roomlist.js";
import { loadInvites, reloadRoom } from "./rooms.js";
import { send } from "./socket.js";
import { actions, connection, rooms, session } from "./store.js";
import { showTyping } from "./typing.js";

export function onFrame(frame) {
  const step = feeds.handle(frame);
  if (step.consumed) {
    for (const next of step.send) send(next);
    for (const change of step.applied) showChange(change);
    for (const roomId of step.reload) reloadRoom(roomId);
    return;
  }
  switch (frame.type) {
    case "typing": return showTyping(frame);
    case "presence.changed": return presenceChanged(frame);
    case "read": return readMoved(frame);
    case "invite.received": return loadInvites();
    case "ack":
      if (frame.action === actions.Subscribe) connection.retry = 0;  // open and subscribed
      if (frame.action === actions.Sync) for (const m of frame.messages || []) receive(m, false);  // v1
      if (frame.action === actions.SendMessage) receive(frame.message, false);
      return;
    case "error": return toast(`${frame.error.code}: ${frame.error.message}`);
  }
}

/** Show a room change the feed applied. */
function showChange(change) {
  switch (change.type) {
    case "message.posted": return receive(change.message, false);
    case "message.edited":
    case "message.deleted": return replace(change.message);
    case "reaction.changed":
      noteReaction(change);
      return replace(change.message);
    case "member.joined":
      if (change.roomId === rooms.current) refreshPresence();
      return;
    case "member.left":
      if (change.userId === session.me.userId) forgetRoom(change.roomId);
      else if (change.roomId === rooms.current) refreshPresence();
      forgetReader(change.roomId, change.userId);
      return;
  }
}
