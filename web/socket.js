// The one WebSocket (config.json `wsUrl`): connect with the ID token, show the connection
// state, reconnect with backoff, re-subscribe and sync what was missed, send frames. Incoming
// frames go to the handler given to `connect` (frames.js).

import { $ } from "./dom.js";
import { actions, connection, history, limits, rooms, session } from "./store.js";

let onFrame = () => {};

function setConnection(text, online) {
  $("conn-state").textContent = text;
  $("conn-state").classList.toggle("online", online);
}

export function connect(handler = onFrame) {
  onFrame = handler;
  setConnection(connection.retry ? "reconnecting…" : "connecting…", false);
  const socket = new WebSocket(`${session.config.wsUrl}?token=${encodeURIComponent(session.tokens.idToken)}`);
  connection.socket = socket;
  socket.onopen = () => {
    const wasRetry = connection.retry > 0;
    connection.retry = 0;
    setConnection("online", true);
    const ids = [...rooms.byId.keys()].slice(0, limits.roomIdsPerFrame);
    if (ids.length) send({ action: actions.Subscribe, roomIds: ids });
    // After a drop, fetch exactly what was posted meanwhile in every room we follow.
    if (wasRetry) for (const roomId of ids) send({ action: actions.Sync, roomId, afterId: history.lastSeen.get(roomId), limit: limits.pageSizeMax });
  };
  socket.onmessage = (event) => onFrame(JSON.parse(event.data));
  socket.onclose = () => {
    if (connection.socket !== socket || !session.tokens) return;
    connection.retry += 1;
    setConnection("offline, reconnecting…", false);
    setTimeout(connect, Math.min(10_000, 300 * 2 ** connection.retry));
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
