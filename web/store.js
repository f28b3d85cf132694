// What the client holds, in a few named slices instead of one global: each module imports the
// slices it reads or writes, so who touches what shows in its imports. Nothing here is ever
// written to Web Storage: a reload starts empty and asks to sign in again (docs/WEB.md).

/** The signed-in session: config.json, the Cognito tokens (memory only, never logged), me. */
export const session = { config: null, tokens: null, me: null, refreshTimer: null };

/** WebSocket action names by command class name, from config.json `actions` (the server's
 * route table is their one home): send `{ action: actions.SendMessage, ... }`. */
export const actions = {};

/** The stage's bounds, from config.json `limits` (domain/limits.py and the user pool are their
 * homes): forms and requests keep to them; the server checks each one again. */
export const limits = {};

/** The one WebSocket, how many reconnects in a row it has tried (back to 0 once a connection
 * is open and subscribed), and the timer that pings it. */
export const connection = { socket: null, retry: 0, pingTimer: null };

/** The rooms in the sidebar, the open one, and the names of the people seen so far. */
export const rooms = {
  byId: new Map(),   // roomId -> {room, unread, online?}
  current: null,     // the open room's id
  names: new Map(),  // userId -> username
};

/** Where each room's history stands, and what the open room shows. */
export const history = {
  cursors: new Map(),   // roomId -> history cursor (null: start of room reached)
  lastSeen: new Map(),  // roomId -> newest message id received, for a v1 sync (no seq known)
  shown: new Set(),     // message ids on screen
  loadingOlder: false,
};

/** Typing: when we last told the room, and who is typing now (userId -> timer hiding them). */
export const typing = { sentAt: 0, timers: new Map() };

/** The open room's read markers (userId -> lastReadId), for "seen by" (receipts.js). */
export const receipts = { roomId: null, reads: new Map() };

/** The public rooms offered to join (GET /rooms/public), with their member counts. */
export const publicRooms = { list: [] };

/** Reactions: the emoji I put on each message (messageId -> Set), from my own
 * `reaction.changed` events, for messages where the server's reactor sample leaves me out. */
export const reactions = { mine: new Map() };

/** The composer's edit mode: the message being edited, and the draft it set aside. */
export const editing = { messageId: null, draft: "" };

/** The room changes' frame types (config.json `changeTypes`, from domain/events.py): what the
 * feed follows by seq. */
export const changeTypes = new Set();

/** The permission table (config.json `permissions`, from domain/authz.py): `roles` (rank by
 * role), `lowestRole` (act -> room kind -> lowest role allowed, null: nobody) and `onOthers`. */
export const permissions = { roles: {}, lowestRole: {}, onOthers: [] };

/** The side panel (thread, members, pins, moderation, settings) and what it shows. */
export const panel = { kind: null, threadId: null, cursor: null, replies: new Map() };

/** The quote chip in the composer (a message to quote), the mention events already counted
 * ("roomId messageId"), and the people I blocked. */
export const compose = { quote: null, mentionsSeen: new Set(), blocked: new Set() };

/** The open room's pinned message ids (GET /rooms/{roomId}/pins, then message.pinned and
 * message.unpinned changes). */
export const pinned = { roomId: null, ids: new Set() };
