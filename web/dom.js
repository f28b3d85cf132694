// Small DOM helpers every view uses: look an element up by id, show a passing message.

export const $ = (id) => document.getElementById(id);

export function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(node.timer);
  node.timer = setTimeout(() => { node.hidden = true; }, 5000);
}
