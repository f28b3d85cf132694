// What the server sends on the socket (event types and acks, docs/PROTOCOL.md), routed to the
// view it changes. Room changes go through their room's feed first (feed.js): a duplicate is
// dropped, a gap is synced, and only what the feed applied is shown. Frames of protocol v1 and
// v2 are both taken ("v" is not checked: v2 only adds fields).

import { clearNotice, composerNotice } from "./composer.js";
import { $, toast } from "./dom.js";
import { feeds } from "./feed.js";
import { membersChanged } from "./members.js";
import { clearMessages, receive, replace } from "./messages.js";
import { pinsChanged } from "./moderation.js";
import { closePanel, showRoomTools } from "./panel.js";
import { presenceChanged, refreshPresence } from "./presence.js";
import { noteReaction } from "./reactions.js";
import { forgetReader, readMoved } from "./receipts.js";
import { forgetRoom, renderRooms, roomLabel } from "./roomlist.js";
import { loadInvites, reloadRoom, showRoomState } from "./rooms.js";
import { send } from "./socket.js";
import { actions, compose, connection, rooms, session } from "./store.js";
import { threadChanged } from "./threads.js";
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
    case "mention": return mentioned(frame);
    case "ack":
      if (frame.action === actions.Subscribe) connection.retry = 0;  // open and subscribed
      if (frame.action === actions.Sync) for (const m of frame.messages || []) receive(m, false);  // v1
      if (frame.action === actions.SendMessage) receive(frame.message, false);
      return;
    case "error":
      if (composerNotice(frame.error.code, frame.error.retryAfterMs)) return;
      return toast(`${frame.error.code}: ${frame.error.message}`);
  }
}

/** Show a room change the feed applied. The change types are config.json's; the cases name
 * those this view draws (a type it does not know is still followed by the feed). */
function showChange(change) {
  switch (change.type) {
    case "message.posted":
      receive(change.message, false);
      threadChanged(change.message);
      if (change.thread) parentCounted(change.roomId, change.thread.parentId);
      return;
    case "message.edited":
    case "message.deleted":
      threadChanged(change.message);
      return replace(change.message);
    case "reaction.changed":
      noteReaction(change);
      threadChanged(change.message);
      return replace(change.message);
    case "member.joined": return memberChanged(change);
    case "member.left":
      if (change.userId === session.me.userId) leftRoom(change.roomId);
      else if (change.roomId === rooms.current) refreshPresence();
      forgetReader(change.roomId, change.userId);
      membersChanged(change.roomId);
      return;
    case "room.updated": return roomUpdated(change);
    case "message.pinned":
    case "message.unpinned": return pinsChanged(change);
  }
}

/** A reply moved its thread's counts (set on the parent the feed holds): redraw the parent. */
function parentCounted(roomId, parentId) {
  const parent = feeds.room(roomId).messages.get(parentId);
  if (!parent) return;
  replace(parent);
  threadChanged(parent);
}

/** A member joined, or their role or mute changed (the membership as it now is). */
function memberChanged(change) {
  const { membership } = change;
  const entry = rooms.byId.get(change.roomId);
  if (membership.userId === session.me.userId && entry) {
    entry.membership = membership;
    if (change.roomId === rooms.current) { showRoomTools(); showRoomState(change.roomId); }
  }
  if (change.roomId === rooms.current) refreshPresence();
  membersChanged(change.roomId);
}

function roomUpdated(change) {
  const entry = rooms.byId.get(change.roomId);
  if (!entry) return;
  entry.room = change.room;
  renderRooms();
  if (change.roomId !== rooms.current) return;
  $("room-title").textContent = roomLabel(change.room);
  showRoomState(change.roomId);
}

/** I left, or was kicked or banned: the room goes from the list (and from view if open). */
function leftRoom(roomId) {
  const open = roomId === rooms.current;
  forgetRoom(roomId);
  if (!open) return;
  closePanel();
  showRoomTools(false);
  clearNotice();
  clearMessages(false);
  $("room-title").textContent = "No room open";
  $("app").classList.remove("in-room");  // on a phone: back to the list
  $("message-input").disabled = true;
  $("send").disabled = true;
}

/** A `mention` event: an "@" badge on the room unless it is open (a repeat is dropped). */
function mentioned(frame) {
  const key = `${frame.roomId} ${frame.messageId}`;
  if (compose.mentionsSeen.has(key)) return;
  compose.mentionsSeen.add(key);
  const entry = rooms.byId.get(frame.roomId);
  if (!entry || frame.roomId === rooms.current) return;
  entry.mentions = (entry.mentions || 0) + 1;
  renderRooms();
}
