// The public rooms to join: a list with each room's name, its member count (the server keeps
// `memberCount` on the room in the write that adds or removes a member) and a Join button.
// Rooms I am in are not offered; a click on Join is handled by rooms.js.

import { api } from "./api.js";
import { $ } from "./dom.js";
import { limits, publicRooms, rooms } from "./store.js";

export async function loadPublicRooms() {
  ({ rooms: publicRooms.list } = await api("GET", `/rooms/public?limit=${limits.pageSizeMax}`));
  renderPublicRooms();
}

export function membersText(count) {
  const n = Math.max(0, count || 0);
  return `${n} member${n === 1 ? "" : "s"}`;
}

export function renderPublicRooms() {
  const offered = publicRooms.list.filter((room) => !rooms.byId.has(room.roomId));
  $("public-empty").hidden = offered.length > 0;
  $("public-list").replaceChildren(...offered.map((room) => {
    const li = document.createElement("li");
    const name = Object.assign(document.createElement("span"), { className: "name", textContent: `# ${room.name}` });
    const count = Object.assign(document.createElement("span"), { className: "count muted", textContent: membersText(room.memberCount) });
    const join = Object.assign(document.createElement("button"), { type: "button", textContent: "Join" });
    join.dataset.joinRoomId = room.roomId;
    join.setAttribute("aria-label", `Join ${room.name} (${membersText(room.memberCount)})`);
    li.append(name, count, join);
    return li;
  }));
}
