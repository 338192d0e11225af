// Lines that the camera rewrites by itself (the frame figures, the offer's words) keep the
// room of their longest wording at the width they have now, measured, not guessed: the style sheet's
// reserved lines fit the usual text size, but at two or three times the text size the wordings
// took more lines than were kept, and the first list (or a new frame rate) moved what was below
// with no key pressed (the floating offer grew 48 px upward at 320 px with three times the text).

/**
 * Keep `el` at least as tall as the tallest of `variants` would make it, at its current width and
 * text size, measured again whenever either changes. The measuring copy is hidden and taken out at
 * once; its height includes the style sheet's own minimum, so the room kept is never less than that.
 * @param {HTMLElement} el
 * @param {Array<(copy: HTMLElement) => void>} variants  each turns a deep copy of `el` into one wording
 */
export function keepRoom(el, variants) {
  let measuredFor = "";
  const measure = () => {
    const parent = el.parentElement;
    if (!parent || !el.getClientRects().length) return; // hidden: measured when it shows
    const key = `${parent.clientWidth} ${el.getBoundingClientRect().width} ${getComputedStyle(el).fontSize} ${rootFontSize()}`;
    if (key === measuredFor) return; // its own new height (the room kept) changes nothing
    measuredFor = key;
    el.style.minHeight = `${tallest(el, variants)}px`;
  };
  const observer = new ResizeObserver(measure);
  observer.observe(el);
  if (el.parentElement) observer.observe(el.parentElement);
  measure();
  return measure;
}

/** The root's text size: the browser's text setting, which rem sizes follow. */
function rootFontSize() {
  return getComputedStyle(document.documentElement).fontSize;
}

/** The height (px) of the tallest wording, each laid out in a hidden copy of `el` beside it: all
 * copies put in, then all read (one forced layout), then all taken out. */
function tallest(el, variants) {
  const width = el.getBoundingClientRect().width;
  const copies = variants.map((variant) => {
    const copy = el.cloneNode(true);
    copy.removeAttribute("id");
    copy.setAttribute("aria-hidden", "true");
    copy.style.cssText = `position:absolute;visibility:hidden;left:0;top:0;width:${width}px;max-width:none`;
    variant(copy);
    return copy;
  });
  el.after(...copies);
  const most = Math.max(0, ...copies.map((copy) => copy.getBoundingClientRect().height));
  for (const copy of copies) copy.remove();
  return most;
}

/** A variant that writes `text` into the copy. */
export function wording(text) {
  return (copy) => (copy.textContent = text);
}
