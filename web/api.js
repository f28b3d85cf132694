// The HTTP API (config.json `httpUrl`) with the ID token, and the attachments bucket's
// presigned POST uploads and GET downloads. A 401 (a token that expired while the page slept
// past its refresh timer) is answered by one refresh and one retry.

import { refreshTokens } from "./cognito.js";
import { session } from "./store.js";

function call(method, path, body) {
  return fetch(session.config.httpUrl + path, {
    method,
    headers: {
      Authorization: `Bearer ${session.tokens.idToken}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function api(method, path, body) {
  let reply = await call(method, path, body);
  if (reply.status === 401 && await refreshTokens()) reply = await call(method, path, body);
  const data = await reply.json().catch(() => ({}));
  if (!reply.ok) {
    const error = data.error || { code: reply.status === 401 ? "unauthorized" : "error", message: data.message || reply.statusText };
    throw new Error(`${error.code}: ${error.message}`);
  }
  return data;
}

/** Upload `file` with a presigned POST; its object key. */
export async function upload(purpose, file, roomId) {
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

/** A presigned GET URL for an attachment or avatar, asked for once per key. */
export async function downloadUrl(key) {
  if (!urlCache.has(key)) urlCache.set(key, api("GET", `/attachments?key=${encodeURIComponent(key)}`).then((d) => d.url));
  return urlCache.get(key);
}
