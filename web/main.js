// DynamoTalk web client: plain JavaScript modules, no build step. Reads its endpoints and the
// WebSocket action names from config.json (the local gateway or the stage's CloudFront), signs
// in with Cognito's JSON API, talks to the HTTP API and one WebSocket. Tokens live in memory
// only (never in Web Storage, where any script on the origin could read the 30-day refresh
// token) and are never logged: a reload asks to sign in again (docs/WEB.md).

import { bindComposer } from "./composer.js";
import { $ } from "./dom.js";
import { bindExport } from "./export.js";
import { onFrame } from "./frames.js";
import { bindPanel } from "./panel.js";
import { loadBlocks } from "./members.js";
import { bindMentionCompletion } from "./mention-complete.js";
import { bindMessages } from "./messages.js";
import { bindErasure } from "./erasure.js";
import { bindProfile, loadMe } from "./profile.js";
import { initPush } from "./push.js";
import { bindRooms, loadRooms, openFirstRoom, openRoom } from "./rooms.js";
import { bindSearch } from "./search.js";
import { bindSignIn } from "./signin.js";
import { connect } from "./socket.js";
import { actions, changeTypes, limits, permissions, session } from "./store.js";

async function enterApp() {
  $("signin").hidden = true;
  $("app").hidden = false;
  await loadMe();
  await Promise.all([loadRooms(), loadBlocks()]);
  connect(onFrame);
  await openFirstRoom();
  initPush(openRoom); // Web Push, where the browser and the stage offer it (push.js)
}

/** The stage's bounds on the forms, so the browser refuses what the server would. */
function applyLimits() {
  Object.assign($("username"), { minLength: limits.usernameMin, maxLength: limits.usernameMax });
  $("password").minLength = limits.minPassword;
  $("create-name").maxLength = limits.maxRoomName;
  $("message-input").maxLength = limits.maxText;
  $("avatar-input").accept = limits.avatarTypes.join(",");
}

async function main() {
  session.config = await (await fetch("config.json", { cache: "no-store" })).json();
  // Real-user monitoring only where the stage turned it on: otherwise not even rum.js loads.
  if (session.config.rum) import("./rum.js").then((rum) => rum.startRum(session.config));
  Object.assign(actions, session.config.actions);
  Object.assign(limits, session.config.limits);
  for (const type of session.config.changeTypes) changeTypes.add(type);
  Object.assign(permissions, session.config.permissions);
  applyLimits();
  bindSignIn(enterApp);
  bindProfile();
  bindExport(); // "Export my data" (export.js)

  bindErasure(); // "Delete my account" (erasure.js)
  bindRooms();
  bindMessages();
  bindComposer();
  bindPanel();
  bindMentionCompletion();
  bindSearch();
  // Nothing to restore: tokens are kept in memory only, so every page load signs in.
  $("username").focus();
}

main();
