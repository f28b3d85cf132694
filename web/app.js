// DynamoTalk web client: plain JavaScript modules, no build step. Reads its endpoints from
// config.json (the local gateway or the stage's CloudFront), signs in with Cognito's JSON API,
// talks to the HTTP API and one WebSocket. Tokens live in memory only (never in Web Storage,
// where any script on the origin could read the 30-day refresh token) and are never logged:
// a reload asks to sign in again (docs/WEB.md).

const $ = (id) => document.getElementById(id);
const state = {
  config: null, tokens: null, me: null,
  rooms: new Map(),            // roomId -> {room, unread, online?}
  names: new Map(),            // userId -> username
  current: null,
  cursors: new Map(),          // roomId -> history cursor (null: start of room reached)
  lastSeen: new Map(),         // roomId -> newest message id received, for sync
  shown: new Set(),            // message ids on screen
  socket: null, retry: 0, typingSentAt: 0, typingTimers: new Map(), refreshTimer: null,
  loadingOlder: false,
};

// --- Cognito (JSON API) ------------------------------------------------------------------

async function cognito(action, body) {
  const reply = await fetch(state.config.cognitoUrl, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  });
  const data = await reply.json().catch(() => ({}));
  if (!reply.ok) {
    const kind = (data.__type || "Error").split("#").pop();
    throw new Error(friendlyCognitoError(kind, data.message));
  }
  return data;
}

function friendlyCognitoError(kind, message) {
  const known = {
    NotAuthorizedException: "Wrong username or password.",
    UserNotFoundException: "Wrong username or password.",
    UsernameExistsException: "That username is taken.",
    // The stage's policy decides (8 characters on dev, 12 on prod): say what Cognito said.
    InvalidPasswordException: `Password too weak: ${(message || "").replace(/^.*policy: /, "")}`,
    CodeMismatchException: "That code is not right.",
    UserNotConfirmedException: "Confirm your account with the code we sent first.",
  };
  return known[kind] || message || kind;
}

function keepTokens(result) {
  const idToken = result.IdToken;
  const payload = JSON.parse(atob(idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  state.tokens = {
    idToken,
    refreshToken: result.RefreshToken || state.tokens?.refreshToken,
    expiresAt: payload.exp * 1000,
  };
  clearTimeout(state.refreshTimer);
  // Refresh two minutes before expiry so requests never carry a dead token, and renew the
  // socket's session with the fresh token: the server closes a socket when its token expires.
  const wait = Math.max(5_000, state.tokens.expiresAt - Date.now() - REFRESH_LEAD_MS);
  state.refreshTimer = setTimeout(refreshTokens, wait);
  if (result.renewSocket) send({ action: "reauth", token: idToken });
}

const REFRESH_LEAD_MS = 120_000;

async function refreshTokens() {
  if (!state.tokens?.refreshToken) return;
  try {
    const data = await cognito("InitiateAuth", {
      ClientId: state.config.userPoolClientId,
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: state.tokens.refreshToken },
    });
    keepTokens({ ...data.AuthenticationResult, renewSocket: true });
  } catch (error) {
    toast(`Session expired: ${error.message}`);
    signOut();
  }
}

async function signIn(username, password) {
  const data = await cognito("InitiateAuth", {
    ClientId: state.config.userPoolClientId,
    AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  keepTokens(data.AuthenticationResult);
}

// --- HTTP API ------------------------------------------------------------------------------

async function api(method, path, body) {
  const reply = await fetch(state.config.httpUrl + path, {
    method,
    headers: {
      Authorization: `Bearer ${state.tokens.idToken}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await reply.json().catch(() => ({}));
  if (!reply.ok) {
    const error = data.error || { code: reply.status === 401 ? "unauthorized" : "error", message: data.message || reply.statusText };
    throw new Error(`${error.code}: ${error.message}`);
  }
  return data;
}

async function upload(purpose, file, roomId) {
  const { upload: form } = await api("POST", "/uploads", {
    purpose, roomId, filename: file.name, contentType: file.type || "application/octet-stream", size: file.size,
  });
  const body = new FormData();
  for (const [key, value] of Object.entries(form.fields)) body.append(key, value);
  body.append("file", file);
  const reply = await fetch(form.url, { method: "POST", body });
  if (!reply.ok) throw new Error(`upload refused (${reply.status})`);
  return form.key;
}

const urlCache = new Map();
async function downloadUrl(key) {
  if (!urlCache.has(key)) urlCache.set(key, api("GET", `/attachments?key=${encodeURIComponent(key)}`).then((d) => d.url));
  return urlCache.get(key);
}

// --- WebSocket -----------------------------------------------------------------------------

function setConnection(text, online) {
  $("conn-state").textContent = text;
  $("conn-state").classList.toggle("online", online);
}

function connect() {
  setConnection(state.retry ? "reconnecting…" : "connecting…", false);
  const socket = new WebSocket(`${state.config.wsUrl}?token=${encodeURIComponent(state.tokens.idToken)}`);
  state.socket = socket;
  socket.onopen = () => {
    const wasRetry = state.retry > 0;
    state.retry = 0;
    setConnection("online", true);
    const ids = [...state.rooms.keys()].slice(0, 100);
    if (ids.length) send({ action: "subscribe", roomIds: ids });
    // After a drop, fetch exactly what was posted meanwhile in every room we follow.
    if (wasRetry) for (const roomId of ids) send({ action: "sync", roomId, afterId: state.lastSeen.get(roomId), limit: 100 });
  };
  socket.onmessage = (event) => onFrame(JSON.parse(event.data));
  socket.onclose = () => {
    if (state.socket !== socket || !state.tokens) return;
    state.retry += 1;
    setConnection("offline, reconnecting…", false);
    setTimeout(connect, Math.min(10_000, 300 * 2 ** state.retry));
  };
}

function send(frame) {
  if (state.socket?.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function onFrame(frame) {
  switch (frame.type) {
    case "message.posted": return receive(frame.message, false);
    case "message.edited":
    case "message.deleted":
    case "reaction.changed": return replace(frame.message);
    case "typing": return showTyping(frame);
    case "presence.changed": return presence(frame);
    case "member.joined":
      if (frame.roomId === state.current) refreshPresence();
      return;
    case "invite.received": return loadInvites();
    case "member.left":
      if (frame.userId === state.me.userId) forgetRoom(frame.roomId);
      else if (frame.roomId === state.current) refreshPresence();
      return;
    case "ack":
      if (frame.action === "sync") for (const m of frame.messages) receive(m, false);
      if (frame.action === "sendMessage") receive(frame.message, false);
      return;
    case "error": return toast(`${frame.error.code}: ${frame.error.message}`);
  }
}

// --- rooms ---------------------------------------------------------------------------------

async function loadRooms() {
  // The room list comes in pages of at most 100 (each request's cost is bounded).
  let cursor = null;
  do {
    const page = await api("GET", `/rooms?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    for (const summary of page.rooms) {
      const known = state.rooms.get(summary.room.roomId);
      state.rooms.set(summary.room.roomId, { ...known, room: summary.room, unread: summary.unread });
    }
    cursor = page.nextCursor;
  } while (cursor);
  renderRooms();
  loadInvites();
  const { rooms: publicRooms } = await api("GET", "/rooms/public?limit=100");
  const select = $("join-select");
  select.replaceChildren(...publicRooms.filter((r) => !state.rooms.has(r.roomId)).map((r) => new Option(r.name, r.roomId)));
}

// --- invites: nobody is a member of a room before accepting its invite ----------------------

async function loadInvites() {
  const { invites } = await api("GET", "/invites");
  $("invites").hidden = invites.length === 0;
  $("invite-list").replaceChildren(...invites.map((invite) => {
    const li = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = `${invite.roomKind === "private" ? "🔒 " : "# "}${invite.roomName} — from ${invite.inviterName}`;
    li.append(label);
    for (const [answer, text] of [["accept", "Accept"], ["decline", "Decline"], ["block", "Block sender"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = answer === "accept" ? "" : "link";
      button.textContent = text;
      button.setAttribute("aria-label", `${text}: ${invite.roomName}`);
      button.addEventListener("click", () => answerInvite(invite.roomId, answer));
      li.append(" ", button);
    }
    return li;
  }));
}

async function answerInvite(roomId, answer) {
  try {
    await api("POST", `/invites/${encodeURIComponent(roomId)}/${answer}`);
    if (answer === "accept") {
      await loadRooms();
      send({ action: "subscribe", roomIds: [roomId] });
      await openRoom(roomId);
    } else {
      await loadInvites();
    }
  } catch (error) { toast(error.message); }
}

function forgetRoom(roomId) {
  state.rooms.delete(roomId);
  if (state.current === roomId) state.current = null;
  renderRooms();
}

function roomLabel(room) {
  if (room.kind !== "direct") return room.name;
  return room.name.split(" & ").filter((n) => n !== state.me.username).join(", ") || room.name;
}

function renderRooms() {
  const items = [...state.rooms.values()].sort((a, b) => roomLabel(a.room).localeCompare(roomLabel(b.room)));
  $("room-list").replaceChildren(...items.map(({ room, unread, online }) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.roomId = room.roomId;
    button.setAttribute("aria-current", String(room.roomId === state.current));
    const name = document.createElement("span");
    name.textContent = (room.kind === "private" ? "🔒 " : room.kind === "direct" ? "" : "# ") + roomLabel(room);
    button.append(name);
    if (room.kind === "direct") {
      const dot = document.createElement("span");
      dot.className = `dot${online ? " online" : ""}`;
      dot.setAttribute("aria-label", online ? "online" : "offline");
      name.prepend(dot, " ");
    }
    if (unread && room.roomId !== state.current) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = unread >= 100 ? "99+" : String(unread);
      badge.setAttribute("aria-label", `${unread} unread`);
      button.append(badge);
    }
    button.addEventListener("click", () => openRoom(room.roomId));
    li.append(button);
    return li;
  }));
}

async function openRoom(roomId) {
  state.current = roomId;
  $("app").classList.add("in-room");
  const entry = state.rooms.get(roomId);
  $("room-title").textContent = roomLabel(entry.room);
  $("messages").replaceChildren();
  state.shown.clear();
  $("message-input").disabled = false;
  $("send").disabled = false;
  send({ action: "subscribe", roomIds: [roomId] });
  const [{ members }, page] = await Promise.all([
    api("GET", `/rooms/${roomId}/presence`),
    api("GET", `/rooms/${roomId}/messages?limit=30`),
  ]);
  for (const m of members) state.names.set(m.userId, m.username);
  updatePresence(members);
  state.cursors.set(roomId, page.nextCursor);
  for (const message of [...page.messages].reverse()) receive(message, false);
  scrollToEnd();
  entry.unread = 0;
  renderRooms();
  const newest = page.messages[0];
  if (newest) markRead(roomId, newest.id);
  $("message-input").focus();
}

function updatePresence(members) {
  const others = members.filter((m) => m.userId !== state.me.userId);
  const online = others.filter((m) => m.online).map((m) => m.username);
  $("presence").textContent = online.length ? `online: ${online.join(", ")}` : "nobody else online";
  const entry = state.rooms.get(state.current);
  if (entry?.room.kind === "direct") { entry.online = online.length > 0; renderRooms(); }
}

function presence(event) {
  state.names.set(event.userId, event.username);
  const entry = state.rooms.get(event.roomId);
  if (entry?.room.kind === "direct" && event.userId !== state.me.userId) { entry.online = event.online; renderRooms(); }
  if (event.roomId === state.current) refreshPresence();
}

function refreshPresence() {
  const roomId = state.current;
  api("GET", `/rooms/${roomId}/presence`)
    .then((d) => {
      for (const m of d.members) state.names.set(m.userId, m.username);
      if (roomId === state.current) updatePresence(d.members);
    })
    .catch(() => {});
}

function markRead(roomId, messageId) {
  send({ action: "markRead", roomId, messageId });
}

// --- messages ------------------------------------------------------------------------------

function receive(message, older) {
  if (!state.lastSeen.get(message.roomId) || message.id > state.lastSeen.get(message.roomId)) state.lastSeen.set(message.roomId, message.id);
  if (message.roomId !== state.current) {
    const entry = state.rooms.get(message.roomId);
    if (entry && message.authorId !== state.me.userId && !state.shown.has(message.id)) { entry.unread = (entry.unread || 0) + 1; renderRooms(); }
    return;
  }
  if (state.shown.has(message.id)) return replace(message);
  state.shown.add(message.id);
  const node = renderMessage(message);
  const list = $("messages");
  if (older) { list.prepend(node); return; }
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  // Keep id order even when a synced message arrives after a newer live one.
  const after = [...list.children].find((li) => li.dataset.id > message.id);
  list.insertBefore(node, after || null);
  if (atEnd || message.authorId === state.me.userId) scrollToEnd();
  if (message.authorId !== state.me.userId) markRead(message.roomId, message.id);
}

function replace(message) {
  const old = document.querySelector(`#messages li[data-id="${message.id}"]`);
  if (old) old.replaceWith(renderMessage(message));
}

function renderMessage(message) {
  const li = document.createElement("li");
  li.className = "message";
  li.dataset.id = message.id;
  li.classList.toggle("mine", message.authorId === state.me.userId);
  li.classList.toggle("deleted", message.deleted);
  const meta = document.createElement("div");
  meta.className = "meta";
  const author = document.createElement("strong");
  author.textContent = state.names.get(message.authorId) || (message.authorId === state.me.userId ? state.me.username : "someone");
  const time = document.createElement("time");
  time.dateTime = new Date(message.createdAt).toISOString();
  time.textContent = new Date(message.createdAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  meta.append(author);
  // authorKind is set by the server from the author id; a display name cannot fake the badge.
  if (message.authorKind && message.authorKind !== "user") {
    meta.append(Object.assign(document.createElement("span"), { className: "author-kind", textContent: message.authorKind }));
  }
  meta.append(time);
  if (message.editedAt && !message.deleted) meta.append(Object.assign(document.createElement("span"), { textContent: "(edited)" }));
  const text = document.createElement("div");
  text.className = "text";
  text.textContent = message.deleted ? "message deleted" : message.text;
  li.append(meta, text);
  for (const attachment of message.attachments || []) {
    if (attachment.contentType.startsWith("image/")) {
      const img = document.createElement("img");
      img.className = "preview";
      img.alt = attachment.name;
      downloadUrl(attachment.key).then((url) => { img.src = url; }).catch(() => { img.alt = `${attachment.name} (unavailable)`; });
      li.append(img);
    } else {
      const link = document.createElement("a");
      link.textContent = `📄 ${attachment.name}`;
      link.href = "#";
      link.addEventListener("click", async (e) => { e.preventDefault(); window.open(await downloadUrl(attachment.key), "_blank", "noopener"); });
      li.append(link);
    }
  }
  if (!message.deleted) li.append(actions(message));
  return li;
}

function actions(message) {
  const row = document.createElement("div");
  row.className = "actions";
  for (const emoji of ["👍", "🎉", "❤️"]) {
    const users = message.reactions?.[emoji] || []; // a sample of at most 3 reactors
    const count = message.reactionCounts?.[emoji] ?? users.length;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = count ? `${emoji} ${count}` : emoji;
    button.setAttribute("aria-pressed", String(users.includes(state.me.userId)));
    button.setAttribute("aria-label", `React with ${emoji}`);
    button.addEventListener("click", () => send({ action: "react", roomId: message.roomId, messageId: message.id, emoji }));
    row.append(button);
  }
  if (message.authorId === state.me.userId) {
    const edit = Object.assign(document.createElement("button"), { type: "button", textContent: "Edit" });
    edit.addEventListener("click", () => {
      const text = prompt("Edit message", message.text);
      if (text !== null && text.trim()) send({ action: "editMessage", roomId: message.roomId, messageId: message.id, text });
    });
    const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "Delete" });
    remove.addEventListener("click", () => {
      if (confirm("Delete this message?")) send({ action: "deleteMessage", roomId: message.roomId, messageId: message.id });
    });
    row.append(edit, remove);
  }
  return row;
}

async function loadOlder() {
  const roomId = state.current;
  const cursor = state.cursors.get(roomId);
  if (!roomId || !cursor || state.loadingOlder) return;
  state.loadingOlder = true;
  const list = $("messages");
  const before = list.scrollHeight;
  try {
    const page = await api("GET", `/rooms/${roomId}/messages?limit=30&cursor=${encodeURIComponent(cursor)}`);
    if (roomId !== state.current) return;
    state.cursors.set(roomId, page.nextCursor);
    for (const message of page.messages) receive(message, true);
    list.scrollTop += list.scrollHeight - before;  // keep the reader where they were
  } catch (error) {
    toast(error.message);
  } finally {
    state.loadingOlder = false;
  }
}

function scrollToEnd() {
  const list = $("messages");
  list.scrollTop = list.scrollHeight;
}

function showTyping(event) {
  if (event.roomId !== state.current || event.userId === state.me.userId) return;
  clearTimeout(state.typingTimers.get(event.userId));
  state.typingTimers.set(event.userId, setTimeout(() => { state.typingTimers.delete(event.userId); renderTyping(); }, 4000));
  state.names.set(event.userId, event.username);
  renderTyping();
}

function renderTyping() {
  const names = [...state.typingTimers.keys()].map((id) => state.names.get(id));
  $("typing").textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
}

function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(node.timer);
  node.timer = setTimeout(() => { node.hidden = true; }, 5000);
}

// --- wiring --------------------------------------------------------------------------------

async function enterApp() {
  $("signin").hidden = true;
  $("app").hidden = false;
  ({ user: state.me } = await api("GET", "/me"));
  state.names.set(state.me.userId, state.me.username);
  $("me-name").textContent = state.me.displayName || state.me.username;
  if (state.me.avatarKey) downloadUrl(state.me.avatarKey).then((url) => { $("my-avatar").src = url; $("my-avatar").hidden = false; });
  await loadRooms();
  connect();
}

function signOut() {
  state.tokens = null;
  state.socket?.close();
  location.reload();
}

function bind() {
  let signingUp = false;
  $("signin-toggle").addEventListener("click", () => {
    signingUp = !signingUp;
    $("signup-fields").hidden = !signingUp;
    $("signin-submit").textContent = signingUp ? "Create account" : "Sign in";
    $("signin-toggle").textContent = signingUp ? "Have an account? Sign in" : "New here? Create an account";
    $("password").autocomplete = signingUp ? "new-password" : "current-password";
  });
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("signin-error").textContent = "";
    const username = $("username").value.trim();
    const password = $("password").value;
    try {
      if (!$("confirm-fields").hidden) {
        await cognito("ConfirmSignUp", { ClientId: state.config.userPoolClientId, Username: username, ConfirmationCode: $("code").value.trim() });
      } else if (signingUp) {
        const answer = await cognito("SignUp", {
          ClientId: state.config.userPoolClientId, Username: username, Password: password,
          UserAttributes: [{ Name: "email", Value: $("email").value.trim() }],
        });
        if (!answer.UserConfirmed) {
          $("confirm-fields").hidden = false;
          $("signin-submit").textContent = "Confirm";
          $("code").focus();
          return;
        }
      }
      await signIn(username, password);
      await enterApp();
    } catch (error) {
      $("signin-error").textContent = error.message;
    }
  });
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("message-input");
    const text = input.value;
    if (!text.trim() || !state.current) return;
    if (send({ action: "sendMessage", roomId: state.current, text, clientId: crypto.randomUUID() })) input.value = "";
    else toast("Not connected; your message was kept, send it again in a moment.");
  });
  $("message-input").addEventListener("input", () => {
    if (Date.now() - state.typingSentAt > 3000 && state.current) {
      state.typingSentAt = Date.now();
      send({ action: "typing", roomId: state.current });
    }
  });
  $("file-input").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file || !state.current) return;
    try {
      const key = await upload("attachment", file, state.current);
      send({
        action: "sendMessage", roomId: state.current, text: $("message-input").value, clientId: crypto.randomUUID(),
        attachments: [{ key, name: file.name, contentType: file.type, size: file.size }],
      });
      $("message-input").value = "";
    } catch (error) {
      toast(error.message);
    }
  });
  $("avatar-input").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    try {
      const key = await upload("avatar", file);
      ({ user: state.me } = await api("PATCH", "/me", { avatarKey: key }));
      $("my-avatar").src = await downloadUrl(key);
      $("my-avatar").hidden = false;
    } catch (error) {
      toast(error.message);
    }
  });
  $("messages").addEventListener("scroll", () => { if ($("messages").scrollTop < 40) loadOlder(); });
  $("create-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const { room } = await api("POST", "/rooms", { name: $("create-name").value, kind: $("create-private").checked ? "private" : "public" });
      $("create-name").value = "";
      state.rooms.set(room.roomId, { room, unread: 0 });
      renderRooms();
      await openRoom(room.roomId);
    } catch (error) { toast(error.message); }
  });
  $("join-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const roomId = $("join-select").value;
    if (!roomId) return;
    try {
      await api("POST", `/rooms/${roomId}/join`);
      await loadRooms();
      await openRoom(roomId);
    } catch (error) { toast(error.message); }
  });
  $("dm-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const { room } = await api("POST", "/direct", { username: $("dm-name").value.trim() });
      $("dm-name").value = "";
      state.rooms.set(room.roomId, { ...state.rooms.get(room.roomId), room, unread: 0 });
      renderRooms();
      await openRoom(room.roomId);
    } catch (error) { toast(error.message); }
  });
  $("signout").addEventListener("click", signOut);
  $("back").addEventListener("click", () => { $("app").classList.remove("in-room"); state.current = null; renderRooms(); });
}

async function main() {
  state.config = await (await fetch("config.json", { cache: "no-store" })).json();
  bind();
  // Nothing to restore: tokens are kept in memory only, so every page load signs in.
  $("username").focus();
}

main();
