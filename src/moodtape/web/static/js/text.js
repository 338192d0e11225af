// Text written once a camera frame: written only when the words change, so that a frame that
// changes nothing touches nothing (no layout, no rebuilt accessibility tree, no restarted transition).

/** Set `el`'s text, unless it says that already. */
export function writeText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
