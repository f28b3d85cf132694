// Web Push in the browser: registers the service worker (sw.js), subscribes with the stage's
// VAPID key (GET /push/key) and stores the subscription under this browser's device id (PUT
// /push/subscriptions/{deviceId}); turning it off unsubscribes and DELETEs it. The open room's
// "Mute"/"Unmute" sets /rooms/{roomId}/notifications. Hidden where the browser has no Push API
// or the stage has push off (GET /push/key answers 404). docs/WEB.md.

import { api } from "./api.js";
import { $, toast } from "./dom.js";
import { rooms } from "./store.js";

const DEVICE_KEY = "dynamotalk.pushDevice";
const push = { registration: null, key: null };

/** This browser's device id: random, kept in localStorage (it names a subscription, no secret). */
function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = crypto.randomUUID().replaceAll("-", "");
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

function keyBytes(base64url) {
  const text = atob(base64url.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

async function showState() {
  const subscription = await push.registration.pushManager.getSubscription();
  $("push-toggle").textContent = subscription ? "Notifications: on" : "Notifications: off";
  $("push-toggle").setAttribute("aria-pressed", String(Boolean(subscription)));
}

async function toggle() {
  try {
    const current = await push.registration.pushManager.getSubscription();
    if (current) {
      await current.unsubscribe();
      await api("DELETE", `/push/subscriptions/${deviceId()}`).catch(() => {});
    } else {
      if (await Notification.requestPermission() !== "granted") throw new Error("notifications are blocked for this site");
      const subscription = await push.registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(push.key),
      });
      await api("PUT", `/push/subscriptions/${deviceId()}`, subscription.toJSON());
    }
  } catch (error) { toast(error.message); }
  await showState();
}

async function showMute() {
  const button = $("room-mute");
  button.hidden = !rooms.current || !push.key;
  if (button.hidden) return;
  const { notifications } = await api("GET", `/rooms/${rooms.current}/notifications`).catch(() => ({}));
  button.dataset.muted = String(Boolean(notifications && notifications.muted));
  button.textContent = button.dataset.muted === "true" ? "Unmute" : "Mute";
}

async function toggleMute() {
  const muted = $("room-mute").dataset.muted !== "true";
  try {
    await api("PUT", `/rooms/${rooms.current}/notifications`, { muted });
  } catch (error) { toast(error.message); }
  await showMute();
}

/** After sign-in: offer notifications where both the browser and the stage can push. */
export async function initPush(openRoom) {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) return;
  try {
    push.key = (await api("GET", "/push/key")).publicKey;
  } catch { return; } // push is off on this stage
  push.registration = await navigator.serviceWorker.register("sw.js");
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "open-room" && rooms.byId.has(event.data.roomId)) {
      openRoom(event.data.roomId);
    }
  });
  $("push-toggle").hidden = false;
  $("push-toggle").addEventListener("click", toggle);
  $("room-mute").addEventListener("click", toggleMute);
  new MutationObserver(showMute).observe($("room-title"), { childList: true });
  await Promise.all([showState(), showMute()]);
}
