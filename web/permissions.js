// Who may do what, computed here from config.json `permissions` (domain/authz.py's table, the
// roles' ranks): the page offers a menu item only where the table allows it. The server checks
// every act again; a refusal is shown like any other error.

import { permissions, rooms, session } from "./store.js";

/** My membership of `roomId` (from GET /rooms and my own member.joined changes). */
export function myMembership(roomId = rooms.current) {
  return rooms.byId.get(roomId)?.membership || null;
}

export function rank(role) {
  return permissions.roles[role] ?? -1;
}

/** Whether I may `act` in `roomId` (the table alone, as domain/authz.may). */
export function may(act, roomId = rooms.current) {
  const entry = rooms.byId.get(roomId);
  const lowest = permissions.lowestRole[act]?.[entry?.room.kind];
  const mine = myMembership(roomId)?.role;
  return Boolean(lowest && mine) && rank(mine) >= rank(lowest);
}

/** Whether I may `act` on a member holding `role` (acts on others also need a higher role). */
export function mayOn(act, role, roomId = rooms.current) {
  return may(act, roomId) && (!permissions.onOthers.includes(act) || rank(myMembership(roomId).role) > rank(role));
}

/** The roles I may give (an owner any; others strictly below their own). */
export function givableRoles(roomId = rooms.current) {
  const mine = myMembership(roomId)?.role;
  const owner = Object.entries(permissions.roles).sort((a, b) => b[1] - a[1])[0]?.[0];
  return Object.keys(permissions.roles).filter((role) => mine === owner || rank(role) < rank(mine));
}

/** Whether a message's author is me. */
export function isMine(message) {
  return message.authorId === session.me.userId;
}
