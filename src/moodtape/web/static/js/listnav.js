// Keyboard movement through the list: one Tab stop per item (a roving tabindex inside each item),
// ← → (Home, End) between an item's buttons and links, ↑ ↓ to the same place in the next item.
// Crossing twelve tracks takes twelve Tab presses instead of sixty.

const CONTROL = ".ctl";

function controls(item) {
  return [...item.querySelectorAll(CONTROL)].filter((el) => !el.closest("[hidden]"));
}

/** Make `target` the item's one Tab stop (tabindex 0), every other control -1. */
export function setStop(item, target) {
  const all = controls(item);
  const chosen = all.includes(target) ? target : all[0];
  for (const el of all) el.tabIndex = el === chosen ? 0 : -1;
  return chosen;
}

/** The item's Tab stop (after setStop), or its first control. */
export function stopOf(item) {
  const all = controls(item);
  return all.find((el) => el.tabIndex === 0) || all[0] || null;
}

/** Focus the Tab stop of the list's `index`-th item (clamped); true when something got focus. */
export function focusItem(list, index) {
  const items = list.children;
  if (!items.length) return false;
  const item = items[Math.max(0, Math.min(items.length - 1, index))];
  const target = stopOf(item);
  if (!target) return false;
  setStop(item, target);
  target.focus();
  return true;
}

/** Wire the keys once for a list whose children are `.item`s holding `.ctl` controls. */
export function setupListKeys(list) {
  list.addEventListener("focusin", (event) => {
    const item = event.target.closest(".item");
    if (item && event.target.matches(CONTROL)) setStop(item, event.target);
  });
  list.addEventListener("keydown", (event) => {
    const item = event.target.closest(".item");
    if (!item || !event.target.matches(CONTROL) || event.altKey || event.ctrlKey || event.metaKey) return;
    const all = controls(item);
    const at = all.indexOf(event.target);
    let target = null;
    if (event.key === "ArrowRight") target = all[Math.min(all.length - 1, at + 1)];
    else if (event.key === "ArrowLeft") target = all[Math.max(0, at - 1)];
    else if (event.key === "Home") target = all[0];
    else if (event.key === "End") target = all[all.length - 1];
    else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const next = event.key === "ArrowDown" ? item.nextElementSibling : item.previousElementSibling;
      if (next) {
        const there = controls(next);
        target = there[Math.min(there.length - 1, Math.max(0, at))] || null;
      }
    } else return;
    event.preventDefault();
    if (target) {
      setStop(target.closest(".item"), target);
      target.focus();
    }
  });
}
