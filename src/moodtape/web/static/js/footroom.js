// What floats at the foot of the screen (the preview bar; on phones, the offer of a new list) must
// neither cover each other nor the end of the page. Their heights change with the words in them (a
// long title wraps, a status line comes and goes), so they are measured, not guessed: each one's
// height is kept in a CSS variable that the style sheet stacks and pads by.

/**
 * Keep `--{name}-h` on the root element equal to each element's height while shown (0 when hidden).
 * @param {Record<string, HTMLElement>} floating  variable name → element
 */
export function trackFootHeights(floating) {
  const root = document.documentElement;
  const measure = () => {
    for (const [name, el] of Object.entries(floating)) {
      const height = el.hidden ? 0 : el.getBoundingClientRect().height;
      root.style.setProperty(`--${name}-h`, `${Math.ceil(height)}px`);
    }
  };
  const observer = new ResizeObserver(measure);
  for (const el of Object.values(floating)) observer.observe(el);
  measure();
  return observer;
}
