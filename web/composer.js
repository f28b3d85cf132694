// The message box: send text (kept when the socket is down), attach a file through a presigned
// upload, and tell the room we are typing.

import { upload } from "./api.js";
import { $, toast } from "./dom.js";
import { send } from "./socket.js";
import { actions, rooms } from "./store.js";
import { tellTyping } from "./typing.js";

export function bindComposer() {
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("message-input");
    const text = input.value;
    if (!text.trim() || !rooms.current) return;
    if (send({ action: actions.SendMessage, roomId: rooms.current, text, clientId: crypto.randomUUID() })) input.value = "";
    else toast("Not connected; your message was kept, send it again in a moment.");
  });
  $("message-input").addEventListener("input", tellTyping);
  $("file-input").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file || !rooms.current) return;
    try {
      const key = await upload("attachment", file, rooms.current);
      send({
        action: actions.SendMessage, roomId: rooms.current, text: $("message-input").value, clientId: crypto.randomUUID(),
        attachments: [{ key, name: file.name, contentType: file.type, size: file.size }],
      });
      $("message-input").value = "";
    } catch (error) {
      toast(error.message);
    }
  });
}
