// Reactions on a message: a chip per emoji with its count and who reacted (names on hover, from
// the members the room knows), and a picker of common emoji plus those already on the message.
// The message JSON carries each emoji's exact count (`reactionCounts`) and a sample of at most
// 3 reactor ids (`reactions`); whether I reacted also follows my own `reaction.changed` events.

import { send } from "./socket.js";
import { actions, reactions, rooms, session } from "./store.js";

/** Offered in every picker, before the emoji already on the message. */
export const COMMON = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "🙏"];

/** "you, ann and 3 others": the sampled reactors by name (me first) and how many more. */
export function reactorsText(sample, count, me, names) {
  const named = [...sample].sort((a, b) => (b === me) - (a === me)).map((id) => (id === me ? "you" : names.get(id) || "someone"));
  const more = Math.max(0, count - named.length);
  if (more) named.push(`${more} other${more > 1 ? "s" : ""}`);
  return named.length > 1 ? `${named.slice(0, -1).join(", ")} and ${named[named.length - 1]}` : named.join("");
}

/** A `reaction.changed` event: remember the emoji I put on or took off. */
export function noteReaction(change) {
  if (change.userId !== session.me?.userId) return;
  const mine = reactions.mine.get(change.messageId) || new Set();
  if (change.added) mine.add(change.emoji); else mine.delete(change.emoji);
  reactions.mine.set(change.messageId, mine);
}

function reactedByMe(message, emoji) {
  const sample = message.reactions?.[emoji] || [];
  return sample.includes(session.me.userId) || Boolean(reactions.mine.get(message.id)?.has(emoji));
}

function toggle(message, emoji) {
  send({ action: actions.React, roomId: message.roomId, messageId: message.id, emoji });
}

/** The chips under a message: one toggle per emoji on it; null when it has none. */
export function reactionChips(message) {
  const counts = Object.entries(message.reactionCounts || {}).filter(([, n]) => n > 0);
  if (!counts.length) return null;
  const row = document.createElement("div");
  row.className = "reactions";
  for (const [emoji, count] of counts) {
    const who = reactorsText(message.reactions?.[emoji] || [], count, session.me.userId, rooms.names);
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.textContent = `${emoji} ${count}`;
    chip.title = `${who} reacted with ${emoji}`;
    chip.setAttribute("aria-label", `${emoji} ${count}: ${who}`);
    chip.setAttribute("aria-pressed", String(reactedByMe(message, emoji)));
    chip.addEventListener("click", () => toggle(message, emoji));
    row.append(chip);
  }
  return row;
}

/** The "Add reaction" button of a message's toolbar, opening its picker below it. */
export function pickerButton(message, li) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "☺+";
  button.setAttribute("aria-label", "Add reaction");
  button.setAttribute("aria-expanded", "false");
  button.addEventListener("click", () => {
    const open = li.querySelector(".picker");
    if (open) return closePicker(li, button);
    const picker = document.createElement("div");
    picker.className = "picker";
    picker.setAttribute("role", "group");
    picker.setAttribute("aria-label", "Pick a reaction");
    const offered = [...COMMON, ...Object.keys(message.reactionCounts || {}).filter((e) => !COMMON.includes(e))];
    for (const emoji of offered) {
      const pick = document.createElement("button");
      pick.type = "button";
      pick.textContent = emoji;
      pick.setAttribute("aria-label", `React with ${emoji}`);
      pick.setAttribute("aria-pressed", String(reactedByMe(message, emoji)));
      pick.addEventListener("click", () => { toggle(message, emoji); closePicker(li, button); });
      picker.append(pick);
    }
    picker.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.stopPropagation(); closePicker(li, button); }
    });
    li.append(picker);
    li.classList.add("picking");
    button.setAttribute("aria-expanded", "true");
    picker.querySelector("button").focus();
  });
  return button;
}

function closePicker(li, button) {
  li.querySelector(".picker")?.remove();
  li.classList.remove("picking");
  button.setAttribute("aria-expanded", "false");
  if (li.isConnected) button.focus();
}
