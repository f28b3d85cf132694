// "Delete my account": a confirmation, then DELETE /me (docs/PROTOCOL.md "Erasing your
// account"). The server erases in the background; this browser signs out at once.

import { api } from "./api.js";
import { signOut } from "./cognito.js";
import { choose } from "./dialog.js";
import { $, toast } from "./dom.js";

export function bindErasure() {
  $("erase-account").addEventListener("click", async () => {
    const sure = await choose(
      "Delete your account? Your sign-in, profile, avatar and memberships are erased for good; your messages are anonymised or deleted as this server's policy says.",
      [{ label: "Delete my account", value: true, danger: true }],
    );
    if (!sure) return;
    try {
      await api("DELETE", "/me");
      toast("Your account is being deleted.");
      signOut();
    } catch (error) {
      toast(error.message);
    }
  });
}
