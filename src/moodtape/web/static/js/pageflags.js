// The page's few whole-page states (the offer floating, the preview bar open, the camera's stage
// shown, the Camera tab selected) as classes on the root element, for the style sheet to read.
//
// They were `html:has(…)`, `body:has(…)` and `.layout:has(…)` rules: with those, the browser has to
// ask whether a change anywhere in the page alters a `:has()` of the root, and when one did (the
// offer coming or going) it restyled everything under <body>, with the camera running (numbers in
// CHANGELOG.md, session 28). A class on the root restyles only the elements its rules name.

/**
 * Keep `flag` on `<html>` set exactly while `element` matches `selector`, for each entry.
 * @param {Array<[string, HTMLElement, string]>} flags  [class name, element, selector]
 * @returns a function that sets them now, for code that measures or scrolls at once: the observer
 *   reports at the end of the running task
 */
export function mirrorStates(flags) {
  const root = document.documentElement;
  const update = () => {
    for (const [flag, element, selector] of flags) root.classList.toggle(flag, element.matches(selector));
  };
  // Mutation records come before the next style pass: no frame is drawn with a stale flag.
  const observer = new MutationObserver(update);
  for (const [, element] of flags) {
    observer.observe(element, { attributes: true, attributeFilter: ["hidden", "class", "aria-selected"] });
  }
  update();
  return update;
}
