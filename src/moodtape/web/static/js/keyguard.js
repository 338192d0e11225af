// Controls that swap places: "Start camera" hands focus to "Stop camera", and "Stop camera" (or the
// list's "Stop") hands it back to "Start camera". A held Enter or Space repeats, and each repeat
// reached the control that had just taken focus: the camera went on and off again with every
// repeat (7 camera streams opened for one held key). A held key's repeats are not taken as presses.
//
// Two separate presses are two presses, however quick, as on any button: a guard that ignored a
// press arriving soon after the page moved focus also ignored people (and keyboard tools) who
// press Start and then Stop on purpose.

const ACTIVATES = new Set(["Enter", " ", "Spacebar"]);

/** Ignore a held key's repeats on `el`: one held key is one press. */
export function guardPresses(el) {
  el.addEventListener("keydown", (event) => {
    if (!ACTIVATES.has(event.key) || event.target !== el || !event.repeat) return;
    // No click follows (Enter's comes on keydown, Space's on keyup once keydown armed the button).
    event.preventDefault();
  });
}
