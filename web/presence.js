// Who is online: the open room's header line and the dots of direct rooms.

import { api } from "./api.js";
import { $ } from "./dom.js";
import { renderRooms } from "./roomlist.js";
import { rooms, session } from "./store.js";

/** Show the open room's members who are online (everyone but me). */
export function updatePresence(members) {
  const others = members.filter((m) => m.userId !== session.me.userId);
  const online = others.filter((m) => m.online).map((m) => m.username);
  $("presence").textContent = online.length ? `online: ${online.join(", ")}` : "nobody else online";
  const entry = rooms.byId.get(rooms.current);
  if (entry?.room.kind === "direct") { entry.online = online.length > 0; renderRooms(); }
}

/** A `presence.changed` event. */
export function presenceChanged(event) {
  rooms.names.set(event.userId, event.username);
  const entry = rooms.byId.get(event.roomId);
  if (entry?.room.kind === "direct" && event.userId !== session.me.userId) { entry.online = event.online; renderRooms(); }
  if (event.roomId === rooms.current) refreshPresence();
}

export function refreshPresence() {
  const roomId = rooms.current;
  api("GET", `/rooms/${roomId}/presence`)
    .then((d) => {
      for (const m of d.members) rooms.names.set(m.userId, m.username);
      if (roomId === rooms.current) updatePresence(d.members);
    })
    .catch(() => {});
}
