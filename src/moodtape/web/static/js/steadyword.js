// The live mood's word, held steady. The server's label is the argmax of the face's (smoothed)
// probabilities, so a face read near 50/50 between two emotions flips it every few frames (75 times
// a minute for one Yale face, docs/benchmarks.md): on screen, a word changing more than once a
// second. The bars and the plane's dot keep following every frame; only the word waits until a new
// label has clearly taken the lead.

/** A new label is shown at once when it leads the shown one by this much probability. Measured on
 * the 15 Yale faces at 10 frames/s: a sudden neutral → happy change passes it 0.9 frames (at worst
 * 2) after the label turns, one blended over 10 frames 1.1 (at worst 3). */
export const CLEAR_MARGIN = 0.1;
/** …or when it has led without a break this long, for changes that never show a clear margin. The
 * borderline face's runs of the other label lasted up to 0.8 s: with 1.5 s its word changed 3
 * times a minute instead of 75 (3 frames instead: 9). */
export const LEAD_MS = 1500;

export class SteadyWord {
  constructor({ clearMargin = CLEAR_MARGIN, leadMs = LEAD_MS } = {}) {
    this.clearMargin = clearMargin;
    this.leadMs = leadMs;
    this.reset();
  }

  /** Forget the shown word (camera stopped): the next face's label is shown at once. */
  reset() {
    this.shown = null;
    this.candidate = null;
    this.since = 0;
  }

  /**
   * Feed one frame's label (null: no face) at `now` ms.
   * @param probabilities  {emotion: 0..1} the label came from, or null when unknown (a photo's
   *   several faces: the mood averages them on the server), which leaves only the time rule
   * @returns the label to show now (null without a face)
   */
  update(label, probabilities, now) {
    if (label === null || this.shown === null || label === this.shown) {
      // No face forgets the word: a face coming back shows its own label, not the one before it.
      this.shown = label;
      this.candidate = null;
      return label;
    }
    if (label !== this.candidate) {
      this.candidate = label;
      this.since = now;
    }
    const lead = probabilities ? (probabilities[label] ?? 0) - (probabilities[this.shown] ?? 0) : 0;
    if (lead >= this.clearMargin || now - this.since >= this.leadMs) {
      this.shown = label;
      this.candidate = null;
    }
    return this.shown;
  }

  /**
   * One camera answer with the steady word in place of the frame's own label: in its mood, and in
   * the face the mood was read from (a stream's mood is its first face's, the person at the camera,
   * `source: "face"`, bystanders or not; the other faces keep their own labels).
   * @returns {{mood, faces}} the answer's objects, copied only where the word differs
   */
  frame(result, now) {
    const { mood } = result;
    const faces = result.faces || [];
    const own = mood && mood.source === "face" && faces.length ? faces[0] : null;
    const word = this.update(mood ? mood.emotion : null, own ? own.probabilities : null, now);
    if (!mood || word === mood.emotion) return { mood, faces };
    const steadyFaces = own && !own.uncertain && own.emotion === mood.emotion ? [{ ...own, emotion: word }, ...faces.slice(1)] : faces;
    return { mood: { ...mood, emotion: word }, faces: steadyFaces };
  }
}
