// What floats at the foot of the screen (the preview bar; on phones, the offer of a new list) must
// neither cover each other nor the end of the page. Their heights change with the words in them (a
// long title wraps, a status line comes and goes), so they are measured, not guessed: each one's
// height is kept in a CSS variable that the style sheet stacks and pads by.

/**
 * Keep `--{name}-h` equal to each floating element's height while shown (0 when hidden), written
 * only on the elements whose rules read it (style.css): the root (scroll padding), <body> (its
 * padding), and the offer for the bar's height (it stands above the bar). The variables do not
 * inherit (`@property` in the style sheet): set on the root and inherited, a new height restyled
 * every element of the page each time the offer came or went; now only its readers.
 * @param {Array<[string, HTMLElement, HTMLElement[]]>} floating  [variable name, element, readers]
 * @returns a function that measures them now: the observer reports only before the next paint,
 *   too late for a scroll made at once (see {@link uncoverFocus})
 */
export function trackFootHeights(floating) {
  const measure = () => {
    for (const [name, el, readers] of floating) {
      const height = `${Math.ceil(el.hidden ? 0 : el.getBoundingClientRect().height)}px`;
      for (const reader of readers) reader.style.setProperty(`--${name}-h`, height);
    }
  };
  const observer = new ResizeObserver(measure);
  for (const [, el] of floating) observer.observe(el);
  measure();
  return measure;
}

/** A floating element whose words would take more than this share of the window's height scrolls
 * inside instead (style.css, `.tall`). */
const TALL_SHARE = 0.55;

/**
 * Mark `el` (the preview bar) `.tall` while its content is taller than TALL_SHARE of the window, so
 * that the style sheet caps it and it scrolls inside. Only then: a cap with scrolling at every size
 * would clip the audio controls' own menu, which pops up out of the bar. At twice the text size on a
 * 320 × 568 phone the bar was 944 px tall, its top 397 px above the screen's, and Previous, Next and
 * the audio with it, where no scrolling reached them: focus on them was out of sight. Its content is
 * measured whether capped or not (scrollHeight), so the mark never flips back and forth.
 * @returns a function that checks now (measureFoot calls it with the other heights)
 */
export function markTall(el) {
  const check = () => {
    const capped = el.classList.contains("tall");
    el.classList.toggle("tall", !el.hidden && el.scrollHeight > TALL_SHARE * window.innerHeight);
    // Focus went in (the audio, as the bar opened) before the cap: it is brought into the bar's view.
    if (!capped && el.classList.contains("tall") && el.contains(document.activeElement)) {
      document.activeElement.scrollIntoView({ block: "nearest" });
    }
  };
  // Capped, the bar keeps its size while its words change: its parts are watched too.
  const observer = new ResizeObserver(check);
  for (const part of [el, ...el.children]) observer.observe(part);
  window.addEventListener("resize", check);
  check();
  return check;
}

/** The part of `el`'s box (px, top to bottom) under `box`. */
function coveredBy(el, box) {
  const r = el.getBoundingClientRect();
  const b = box.getBoundingClientRect();
  const across = Math.min(r.right, b.right) - Math.max(r.left, b.left);
  const down = Math.min(r.bottom, b.bottom) - Math.max(r.top, b.top);
  return across > 0 && down > 0 ? down : 0;
}

/**
 * `box` has just appeared, floating over the page: if it covers the control that has focus, scroll
 * that control up clear of it. Scroll padding keeps a control clear when focus moves to it, but
 * focus that stays put while something floats in is left underneath (WCAG 2.4.11). Only a covered
 * control scrolls, and without a glide under reduced motion. The foot heights must be measured
 * already: the scroll padding that clears `box` is made of them.
 */
export function uncoverFocus(box) {
  const el = document.activeElement;
  if (!el || el === document.body || box.hidden || box.contains(el)) return;
  if (getComputedStyle(box).position !== "fixed" || coveredBy(el, box) === 0) return;
  // "auto" follows the style sheet, which turns smooth scrolling off for reduced motion.
  const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  el.scrollIntoView({ block: "nearest", behavior: reduce ? "auto" : "smooth" });
}
