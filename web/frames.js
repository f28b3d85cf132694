// What the server sends on the socket (event types and acks, docs/PROTOCOL.md), routed to the
// view it changes.

import { toast } from "./dom.js";
import { receive, replace } from "./messages.js";
import { presenceChanged, refreshPresence } from "./presence.js";
import { forgetRoom } from "./roomlist.js";
import { loadInvites } from "./rooms.js";
import { actions, rooms, session } from "./store.js";
import { showTyping } from "./typing.js";

export function onFrame(frame) {
  switch (frame.type) {
    case "message.posted": return receive(frame.message, false);
    case "message.edited":
    case "message.deleted":
    case "reaction.changed": return replace(frame.message);
    case "typing": return showTyping(frame);
    case "presence.changed": return presenceChanged(frame);
    case "member.joined":
      if (frame.roomId === rooms.current) refreshPresence();
      return;
    case "invite.received": return loadInvites();
    case "member.left":
      if (frame.userId === session.me.userId) forgetRoom(frame.roomId);
      else if (frame.roomId === rooms.current) refreshPresence();
      return;
    case "ack":
      if (frame.action === actions.Sync) for (const m of frame.messages) receive(m, false);
      if (frame.action === actions.SendMessage) receive(frame.message, false);
      return;
    case "error": return toast(`${frame.error.code}: ${frame.error.message}`);
  }
}
