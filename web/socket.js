// The one WebSocket (config.json `wsUrl`): connect with the ID token, show the connection
// state, ping it every `limits.pingIntervalSeconds` so the gateway never closes it for
// idleness, reconnect with exponential backoff and full jitter, and on every open subscribe and
// sync each followed room from its lastSeq (feed.js). Incoming frames go to the handler given
// to `connect` (frames.js).

import { $ } from "./dom.js";
import { feeds } from "./feed.js";
import { actions, connection, history, limits, rooms, session } from "./store.js";

let onFrame = () => {};

function setConnection(text, online) {
  $("conn-state").textContent = text;
  $("conn-state").classList.toggle("online", online);
}

/** The wait before reconnect attempt `attempt` (from 0), in ms: uniform in
 * [0, min(reconnectCapMs, reconnectBaseMs * 2**attempt)) ("full jitter"), so pages dropped
 * together do not come back together. */
export function reconnectDelayMs(attempt, random = Math.random) {
  return random() * Math.min(limits.reconnectCapMs, limits.reconnectBaseMs * 2 ** Math.min(attempt, 32));
}

/** The frames that follow an open: subscribe, then a sync per followed room from its lastSeq
 * (a room whose seq is unknown but which showed messages: a v1 sync from the newest one). */
export function resumeFrames(roomIds) {
  if (!roomIds.length) return [];
  const frames = [{ action: actions.Subscribe, roomIds }, ...feeds.resync(roomIds)];
  for (const roomId of roomIds) {
    const afterId = history.lastSeen.get(roomId);
    if (feeds.rooms.get(roomId)?.lastSeq == null && afterId) frames.push({ action: actions.Sync, roomId, afterId, limit: limits.pageSizeMax });
  }
  return frames;
}

export function connect(handler = onFrame) {
  onFrame = handler;
  setConnection(connection.retry ? "reconnecting…" : "connecting…", false);
  const socket = new WebSocket(`${session.config.wsUrl}?token=${encodeURIComponent(session.tokens.idToken)}`);
  connection.socket = socket;
  socket.onopen = () => {
    setConnection("online", true);
    const followed = [...new Set([rooms.current, ...rooms.byId.keys()].filter(Boolean))].slice(0, limits.roomIdsPerFrame);
    // The subscribe's ack resets the backoff (frames.js); with nothing to follow, the open does.
    if (!followed.length) connection.retry = 0;
    for (const frame of resumeFrames(followed)) send(frame);
    clearInterval(connection.pingTimer);
    if (limits.pingIntervalSeconds > 0) connection.pingTimer = setInterval(() => send({ action: actions.Ping }), limits.pingIntervalSeconds * 1000);
  };
  socket.onmessage = (event) => onFrame(JSON.parse(event.data));
  socket.onclose = () => {
    if (connection.socket !== socket) return;
    clearInterval(connection.pingTimer);
    if (!session.tokens) return;
    const delay = reconnectDelayMs(connection.retry);
    connection.retry += 1;
    setConnection("offline, reconnecting…", false);
    setTimeout(connect, delay);
  };
}

/** Send `frame` if the socket is open; false when it is not (the caller keeps what it had). */
export function send(frame) {
  if (connection.socket?.readyState === WebSocket.OPEN) {
    connection.socket.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

export function close() {
  connection.socket?.close();
}
