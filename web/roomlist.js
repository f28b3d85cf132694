// The sidebar's list of rooms: names, unread badges (capped: "99+"), an "@" badge for unread
// mentions of me (`unreadMentions` from GET /rooms, then `mention` events), a presence dot on direct
// rooms, and what to do when there is none yet. Drawn from store.rooms; a click on a room is
// handled by rooms.js.

import { $ } from "./dom.js";
import { renderPublicRooms } from "./publicrooms.js";
import { limits, rooms, session } from "./store.js";

/** What a room is called here: a direct room by the other people in it. */
export function roomLabel(room) {
  if (room.kind !== "direct") return room.name;
  return room.name.split(" & ").filter((n) => n !== session.me.username).join(", ") || room.name;
}

export function renderRooms() {
  const items = [...rooms.byId.values()].sort((a, b) => roomLabel(a.room).localeCompare(roomLabel(b.room)));
  $("rooms-empty").hidden = items.length > 0;
  $("room-list").replaceChildren(...items.map(({ room, unread, online, mentions }) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.roomId = room.roomId;
    button.setAttribute("aria-current", String(room.roomId === rooms.current));
    const name = document.createElement("span");
    name.textContent = (room.kind === "private" ? "🔒 " : room.kind === "direct" ? "" : "# ") + roomLabel(room);
    button.append(name);
    if (room.kind === "direct") {
      const dot = document.createElement("span");
      dot.className = `dot${online ? " online" : ""}`;
      dot.setAttribute("aria-label", online ? "online" : "offline");
      name.prepend(dot, " ");
    }
    if (unread && room.roomId !== rooms.current) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = unread >= limits.unreadCap ? `${limits.unreadCap - 1}+` : String(unread);
      badge.setAttribute("aria-label", `${unread} unread`);
      button.append(badge);
    }
    if (mentions && room.roomId !== rooms.current) {
      const badge = document.createElement("span");
      badge.className = "badge mention-badge";
      badge.textContent = `@${mentions >= limits.unreadCap ? `${limits.unreadCap - 1}+` : mentions}`;
      badge.setAttribute("aria-label", `${mentions} ${mentions === 1 ? "mention" : "mentions"}`);
      button.append(badge);
    }
    li.append(button);
    return li;
  }));
}

/** Drop a room we are no longer in (removed, or left elsewhere). */
export function forgetRoom(roomId) {
  rooms.byId.delete(roomId);
  if (rooms.current === roomId) rooms.current = null;
  renderRooms();
  renderPublicRooms();  // a public room I left is offered again
}
