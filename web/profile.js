// Me: my name and avatar in the sidebar, a new avatar uploaded through a presigned POST, and
// signing out.

import { api, downloadUrl, upload } from "./api.js";
import { signOut } from "./cognito.js";
import { $, toast } from "./dom.js";
import { rooms, session } from "./store.js";

export async function loadMe() {
  ({ user: session.me } = await api("GET", "/me"));
  rooms.names.set(session.me.userId, session.me.username);
  $("me-name").textContent = session.me.displayName || session.me.username;
  if (session.me.avatarKey) downloadUrl(session.me.avatarKey).then((url) => { $("my-avatar").src = url; $("my-avatar").hidden = false; });
}

export function bindProfile() {
  $("avatar-input").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    try {
      const key = await upload("avatar", file);
      ({ user: session.me } = await api("PATCH", "/me", { avatarKey: key }));
      $("my-avatar").src = await downloadUrl(key);
      $("my-avatar").hidden = false;
    } catch (error) {
      toast(error.message);
    }
  });
  $("signout").addEventListener("click", signOut);
}
