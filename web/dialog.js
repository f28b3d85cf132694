// A small modal chooser on the native <dialog>: a title, one button per option and Cancel.
// Used by the menus (a member's actions, mute durations, roles, report reasons): each choice is
// a real button, so the keyboard and screen readers work as for any other.

/** Ask `title`; resolves to the chosen option's value, or null on Cancel / Esc. */
export function choose(title, options) {
  const dialog = document.createElement("dialog");
  dialog.className = "chooser";
  dialog.setAttribute("aria-label", title);
  const heading = Object.assign(document.createElement("h3"), { textContent: title });
  const list = document.createElement("div");
  list.className = "choices";
  dialog.append(heading, list);
  return new Promise((resolve) => {
    const done = (value) => { dialog.close(); dialog.remove(); resolve(value); };
    for (const { label, value, danger } of options) {
      const button = Object.assign(document.createElement("button"), { type: "button", textContent: label });
      if (danger) button.classList.add("danger");
      button.addEventListener("click", () => done(value));
      list.append(button);
    }
    const cancel = Object.assign(document.createElement("button"), { type: "button", textContent: "Cancel", className: "link" });
    cancel.addEventListener("click", () => done(null));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); done(null); });
    list.append(cancel);
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A readable span of seconds ("10 minutes", "1 day"). */
export function duration(seconds) {
  const units = [[86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]];
  const [size, name] = units.find(([unit]) => seconds >= unit && seconds % unit === 0) || [1, "second"];
  const count = seconds / size;
  return `${count} ${name}${count === 1 ? "" : "s"}`;
}

/** When (a local time, with the date if not today) an epoch-ms moment is. */
export function when(ms) {
  const at = new Date(ms);
  const time = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return at.toDateString() === new Date().toDateString() ? time : `${at.toLocaleDateString()} ${time}`;
}
