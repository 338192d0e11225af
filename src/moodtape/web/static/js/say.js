// Live regions: a screen reader hears one only when its text changes. Writing the same words again
// (a second identical failure) changes nothing, so the news would go unheard.

/** How long a repeated line stays cleared before it is written back: more than one frame, so that
 * the browser reports the emptied region and then the words as two changes. */
const REPEAT_GAP_MS = 150;

/** Pending rewrites of a repeated line, per region. */
const pending = new WeakMap();

/** Write `text` into the live region `el`; the same words as now are cleared and written back a
 * moment later, so that they are heard again (unless `again` is false: a progress line such as
 * "Loading…" need not be). Every write to a region goes through here, so that a rewrite still to
 * come never replaces newer words. */
export function say(el, text, { again = true } = {}) {
  clearTimeout(pending.get(el));
  pending.delete(el);
  if (!again || !text || el.textContent !== text) {
    el.textContent = text;
    return;
  }
  el.textContent = "";
  pending.set(
    el,
    setTimeout(() => {
      pending.delete(el);
      el.textContent = text;
    }, REPEAT_GAP_MS),
  );
}
