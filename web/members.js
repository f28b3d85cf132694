// The open room's members in the side panel, each with their role (and "muted until …"), and
// a member menu for those the permission table lets me act on (permissions.js: a role above
// theirs): mute for a while, unmute, kick, ban, change role. Blocking a person (from a message's
// menu) is private: their messages here then come as stubs, so the open room is read again.

import { api } from "./api.js";
import { toast } from "./dom.js";
import { choose, duration, when } from "./dialog.js";
import { feeds } from "./feed.js";
import { openPanel } from "./panel.js";
import { givableRoles, mayOn, rank } from "./permissions.js";
import { reloadRoom } from "./rooms.js";
import { compose, panel, rooms, session } from "./store.js";

/** The mute durations offered, in seconds (the server bounds them: limits.MAX_MUTE_S). */
export const MUTE_SECONDS = [600, 3600, 86400, 604800];

export async function showMembers() {
  const roomId = rooms.current;
  const body = openPanel("members", "Members");
  try {
    const { members } = await api("GET", `/rooms/${roomId}/members`);
    const feed = feeds.room(roomId);
    for (const m of members) feed.members.set(m.userId, m);
    if (panel.kind === "members" && rooms.current === roomId) renderMembers(body, roomId);
  } catch (error) { toast(error.message); }
}

/** Redraw the members panel if it is open (a role, a mute or a member changed). */
export function membersChanged(roomId) {
  if (panel.kind === "members" && rooms.current === roomId) renderMembers(document.getElementById("panel-body"), roomId);
}

function renderMembers(body, roomId) {
  const list = Object.assign(document.createElement("ul"), { className: "members" });
  const members = [...feeds.room(roomId).members.values()].sort((a, b) => rank(b.role) - rank(a.role) || name(a.userId).localeCompare(name(b.userId)));
  for (const m of members) {
    const li = document.createElement("li");
    li.dataset.userId = m.userId;
    li.append(Object.assign(document.createElement("span"), { className: "name", textContent: name(m.userId) }));
    li.append(" ", Object.assign(document.createElement("span"), { className: `role role-${m.role}`, textContent: m.role }));
    if (m.mutedUntil && m.mutedUntil > Date.now()) li.append(" ", Object.assign(document.createElement("span"), { className: "muted", textContent: `muted until ${when(m.mutedUntil)}` }));
    const options = menuFor(m, roomId);
    if (options.length && m.userId !== session.me.userId) {
      const button = Object.assign(document.createElement("button"), { type: "button", className: "link", textContent: "Manage" });
      button.setAttribute("aria-label", `Manage ${name(m.userId)}`);
      button.addEventListener("click", () => memberMenu(m, roomId, options));
      li.append(" ", button);
    }
    list.append(li);
  }
  body.replaceChildren(list);
}

function name(userId) {
  return rooms.names.get(userId) || userId;
}

function menuFor(m, roomId) {
  const options = [];
  if (mayOn("mute", m.role, roomId)) {
    options.push({ label: "Mute…", value: "mute" });
    if (m.mutedUntil) options.push({ label: "Unmute", value: "unmute" });
  }
  if (mayOn("changeRoles", m.role, roomId)) options.push({ label: "Change role…", value: "role" });
  if (mayOn("remove", m.role, roomId)) options.push({ label: "Kick", value: "kick", danger: true });
  if (mayOn("ban", m.role, roomId)) options.push({ label: "Ban", value: "ban", danger: true });
  return options;
}

async function memberMenu(m, roomId, options) {
  const who = name(m.userId);
  const choice = await choose(`Manage ${who}`, options);
  try {
    switch (choice) {
      case "mute": {
        const seconds = await choose(`Mute ${who} for`, MUTE_SECONDS.map((s) => ({ label: duration(s), value: s })));
        if (seconds) await api("POST", `/rooms/${roomId}/mutes`, { userId: m.userId, seconds });
        break;
      }
      case "unmute": await api("DELETE", `/rooms/${roomId}/mutes/${m.userId}`); break;
      case "role": {
        const role = await choose(`New role for ${who}`, givableRoles(roomId).filter((r) => r !== m.role).map((r) => ({ label: r, value: r })));
        if (role) await api("PUT", `/rooms/${roomId}/members/${m.userId}/role`, { role });
        break;
      }
      case "kick": if (confirm(`Remove ${who} from this room?`)) await api("DELETE", `/rooms/${roomId}/members/${m.userId}`); break;
      case "ban": if (confirm(`Ban ${who} from this room?`)) await api("POST", `/rooms/${roomId}/bans`, { userId: m.userId, reason: "" }); break;
    }
  } catch (error) { toast(error.message); }
}

/** Block a person: their messages come as stubs from now on (the open room is read again). */
export async function blockUser(userId) {
  if (!confirm(`Block ${name(userId)}? Their messages will be hidden from you; they are not told.`)) return;
  await api("POST", `/blocks/${userId}`);
  compose.blocked.add(userId);
  if (rooms.current) await reloadRoom(rooms.current);
}

/** Whom I blocked (GET /blocks), for the menus. */
export async function loadBlocks() {
  const { blocks } = await api("GET", "/blocks");
  compose.blocked.clear();
  for (const b of blocks) compose.blocked.add(b.userId);
}
