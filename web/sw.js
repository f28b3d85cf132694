// DynamoTalk's service worker: Web Push only (no caching, no fetch handler). A push is the
// small JSON push_sender encrypts for this browser (docs/PROTOCOL.md, "Push notifications");
// the browser has decrypted it. One notification per message: the tag is the message id, so a
// push that arrives twice (a retried job) replaces the first. A click focuses an open
// DynamoTalk tab and asks it to open the room (web/push.js), or opens a new one (sign in first:
// tokens live in memory only, docs/WEB.md).

self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { data = {}; }
  const author = data.author || "Someone";
  const title = data.reason === "direct" ? author : `${author} in ${data.roomName || "a room"}`;
  const body = data.reason === "mention" ? `mentioned you: ${data.preview || ""}` : data.preview || "";
  event.waitUntil(self.registration.showNotification(title, {
    body,
    tag: data.messageId || "dynamotalk",
    data: { roomId: data.roomId, messageId: data.messageId },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const roomId = event.notification.data && event.notification.data.roomId;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) {
      client.postMessage({ type: "open-room", roomId });
      return client.focus();
    }
    return self.clients.openWindow("./");
  })());
});
