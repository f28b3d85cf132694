// "… is typing": tell the open room at most every 3 seconds while we type, and show who else
// is typing there for 4 seconds after their last notice, or until their message arrives.

import { $ } from "./dom.js";
import { send } from "./socket.js";
import { actions, compose, rooms, session, typing } from "./store.js";

/** Called on each keystroke in the composer. */
export function tellTyping() {
  if (Date.now() - typing.sentAt > 3000 && rooms.current) {
    typing.sentAt = Date.now();
    send({ action: actions.TypingCommand, roomId: rooms.current });
  }
}

/** My message went out: the others stop showing me typing, so my next keystroke tells them
 * again at once rather than after the 3-second pause. */
export function sentMessage() {
  typing.sentAt = 0;
}

/** A `typing` event. */
export function showTyping(event) {
  if (event.roomId !== rooms.current || event.userId === session.me.userId) return;
  if (compose.blocked.has(event.userId)) return;  // the server does not filter typing: we do
  clearTimeout(typing.timers.get(event.userId));
  typing.timers.set(event.userId, setTimeout(() => { typing.timers.delete(event.userId); renderTyping(); }, 4000));
  rooms.names.set(event.userId, event.username);
  renderTyping();
}

/** A message from `userId` arrived in `roomId`: they are done typing it. */
export function stopTyping(roomId, userId) {
  if (roomId !== rooms.current || !typing.timers.has(userId)) return;
  clearTimeout(typing.timers.get(userId));
  typing.timers.delete(userId);
  renderTyping();
}

/** Another room opens: nobody is typing there as far as we know. */
export function clearTyping() {
  for (const timer of typing.timers.values()) clearTimeout(timer);
  typing.timers.clear();
  renderTyping();
}

function renderTyping() {
  const names = [...typing.timers.keys()].map((id) => rooms.names.get(id));
  $("typing").textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
}
