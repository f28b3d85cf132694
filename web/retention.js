// Room retention (issue 18) in the room settings form: how long the room keeps new messages,
// chosen by its admins and owners (`retention` in the permission table) among the server's
// choices (config.json `limits.retentionChoices`, from domain/retention.py). The server refuses
// a retention longer than its own default with a message the form shows; a change applies to
// messages posted after it (docs/PROTOCOL.md, "Retention and your data").

import { may } from "./permissions.js";
import { limits } from "./store.js";

const el = (tag, props = {}) => Object.assign(document.createElement(tag), props);

function label(days) {
  if (!days) return "server default";
  return days === 1 ? "1 day" : `${days} days`;
}

/** The settings form's retention field for `room`: its nodes, and `collect(change)`, which adds
 * `retentionDays` to the PATCH body when the admin changed it. */
export function retentionField(room) {
  const allowed = may("retention");
  const select = el("select", { id: "settings-retention", disabled: !allowed });
  const current = room.retentionDays || 0;
  for (const days of limits.retentionChoices || [0]) {
    select.append(el("option", { value: String(days), textContent: label(days), selected: days === current }));
  }
  const hint = el("p", { className: "muted", textContent: "Applies to messages posted from now on." });
  return {
    nodes: [el("label", { htmlFor: "settings-retention", textContent: "Keep messages for" }), select, hint],
    collect(change) {
      if (allowed && Number(select.value) !== current) change.retentionDays = Number(select.value);
    },
  };
}
