// The mood plane: valence (unpleasant → pleasant) across, arousal (calm → energetic) up.
// It shows the seven emotions' anchor points, the live mood, the mood the list was made for and
// the list's path; it is also a picker (click, or arrow keys then Enter) for choosing a mood by hand.

import { clamp, svgEl, svgText } from "./svg.js";
import { emotionWord, feelWords } from "./words.js";

/**
 * Anchor points, used when /api/config does not send `emotion_points`.
 * Copied from moodtape.recommend.mood.EMOTION_POINTS (our placement on Russell's circumplex).
 */
export const DEFAULT_POINTS = {
  angry: [-0.55, 0.7],
  disgust: [-0.65, 0.3],
  fear: [-0.65, 0.6],
  happy: [0.8, 0.35],
  sad: [-0.7, -0.4],
  surprise: [0.3, 0.75],
  neutral: [0.0, 0.0],
};

const SIZE = 320;
/** Room around the plane's square, the same on every side so that the square stays in the middle.
 * Left of and below it are two lines: the axis's hints, and its title beyond them (on one line with
 * them, "how pleasant" ran into "← unpleasant", and "how energetic" into "energetic →", under WCAG
 * 1.4.12 text spacing, 10.5 px at 1280 px wide). Both fit in it: a viewBox widened for the titles
 * instead drew every word of the plane 5 % smaller, and the square off-centre. */
const PAD = 30;
/** How far outside the square the hints' and titles' baselines sit, below it and left of it (the
 * side's words are turned, their tops away from the square). Measured: a title's 12-px letters take
 * 11.4 units above the baseline and 3 below, a hint's 9.1 and 2.3; the rows keep 1 unit apart. */
const HINT_BELOW = 10;
const TITLE_BELOW = 25;
const HINT_LEFT = 3;
const TITLE_LEFT = 16;
/** How far an anchor word starts from its dot. */
const WORD_OFF = 7;
/** Anchor words whose boxes come closer than this (in viewBox units) are moved apart. */
const LABEL_GAP = 1;
/** Words are measured as this much wider than they are now: text spacing (WCAG 1.4.12's 0.12em
 * between letters) applied after the plane was drawn widens them without a redraw. */
const SPACED_WIDTH = 1.35;
const SPAN = SIZE - 2 * PAD;
const STEP = 0.05;
/** The cursor's words wait this long after the last key: a run of presses is said once, where it
 * ended (each press moves the cursor at once; only the words are put together). */
const SAY_AFTER_MS = 250;

export const toX = (v) => PAD + ((v + 1) / 2) * SPAN;
export const toY = (a) => PAD + ((1 - a) / 2) * SPAN;

export function nearestEmotion(points, valence, arousal) {
  let best = null;
  let bestD = Infinity;
  for (const [name, [v, a]] of Object.entries(points)) {
    const d = Math.hypot(v - valence, a - arousal);
    if (d < bestD) [best, bestD] = [name, d];
  }
  return best;
}

/** The box `label` may take: as measured, widened for text spacing on the side it grows to. */
function roomOf(label) {
  const box = label.getBBox();
  const extra = box.width * (SPACED_WIDTH - 1);
  const left = label.classList.contains("end") ? box.x - extra : box.x;
  return { left, right: left + box.width + extra, top: box.y, bottom: box.y + box.height };
}

/** How far `room` reaches out of the place anchor words may take, left and right together (0:
 * inside): the plane's square, and the empty margin right of it (the one on the left holds the
 * "calm / energetic" words). */
function overflowOf(room) {
  return Math.max(0, PAD - room.left) + Math.max(0, room.right - SIZE);
}

/** Put `label` (an anchor word) on one side of its dot at `dotX`: its start (`end` false) or its end
 * next to the dot. */
function setSide(label, dotX, end) {
  label.setAttribute("x", String(dotX + (end ? -WORD_OFF : WORD_OFF)));
  label.classList.toggle("end", end);
}

/**
 * Keep an anchor word inside the plane, room for text spacing included: a word too long for its
 * usual side of the dot (right of it on the left half, left of it on the right half) goes to the
 * other side. Before, a longer word ran out of the plane ("surprised" in another language, 44 units
 * past the square's right side, 14 past the plane's). Unrendered (no box yet): left as is.
 */
function keepInside(label, dotX) {
  const before = overflowOf(roomOf(label));
  if (before === 0) return;
  const end = label.classList.contains("end");
  setSide(label, dotX, !end);
  if (overflowOf(roomOf(label)) >= before) setSide(label, dotX, end);
}

/**
 * Move anchor words apart, top to bottom: a word whose box meets one above it goes down below it.
 * With the usual points "angry" and "afraid" sat 13 units apart, their boxes 1.5 units into each
 * other (descenders on ascenders), more under text spacing. Unrendered (no box yet): left as is.
 */
function spreadLabels(labels) {
  const placed = [];
  const rooms = labels.map((label) => ({ label, room: roomOf(label) })).sort((a, b) => a.room.top - b.room.top);
  for (const { label, room } of rooms) {
    if (room.bottom <= room.top) return;
    for (const other of placed) {
      const across = room.left < other.right && other.left < room.right;
      const down = other.bottom + LABEL_GAP - room.top;
      if (across && down > 0 && room.top >= other.top) {
        label.setAttribute("y", String(Number(label.getAttribute("y")) + down));
        room.top += down;
        room.bottom += down;
      }
    }
    placed.push(room);
  }
}

export class MoodPlane {
  /**
   * @param {SVGSVGElement} svg
   * @param {object} points  emotion → [valence, arousal]
   * @param {(mood: {valence: number, arousal: number, emotion: string}) => void} onPick
   * @param {(text: string) => void} announce  for the cursor position (aria-live)
   */
  constructor(svg, points, onPick, announce) {
    this.svg = svg;
    this.points = points;
    this.onPick = onPick;
    this.announce = announce;
    this.cursor = { valence: 0, arousal: 0 };
    /** A list's mood that came while the plane had focus: the cursor goes there once focus leaves. */
    this.pending = null;
    this.sayTimer = null;
    /** Whether the hint ("Press Enter to choose.") was said since the plane took focus. */
    this.hinted = false;
    this.build();
    svg.addEventListener("click", (event) => this.click(event));
    svg.addEventListener("keydown", (event) => this.key(event));
    svg.addEventListener("focus", () => {
      this.hinted = false;
      this.showCursor(true);
    });
    svg.addEventListener("blur", () => {
      // Words about a place the person has left are not news any more.
      clearTimeout(this.sayTimer);
      this.showCursor(false);
      if (this.pending) this.moveCursor(this.pending.valence, this.pending.arousal, false);
      this.pending = null;
    });
  }

  build() {
    const svg = this.svg;
    svg.setAttribute("viewBox", `0 0 ${SIZE} ${SIZE}`);
    svg.replaceChildren();
    svgEl("rect", { x: PAD, y: PAD, width: SPAN, height: SPAN, rx: 10, class: "plane-bg" }, svg);
    svgEl("circle", { cx: toX(0), cy: toY(0), r: SPAN / 2, class: "plane-circle" }, svg);
    svgEl("line", { x1: PAD, y1: toY(0), x2: PAD + SPAN, y2: toY(0), class: "plane-axis" }, svg);
    svgEl("line", { x1: toX(0), y1: PAD, x2: toX(0), y2: PAD + SPAN, class: "plane-axis" }, svg);
    // Axis words sit outside the plane, so they never hide an anchor or the path; each title on a
    // line of its own, further out than its two hints, so that wider words cannot run into them.
    const below = PAD + SPAN + HINT_BELOW;
    svgText("← unpleasant", { x: PAD, y: below, class: "plane-hint" }, svg);
    svgText("pleasant →", { x: PAD + SPAN, y: below, class: "plane-hint end" }, svg);
    svgText("how pleasant", { x: SIZE / 2, y: PAD + SPAN + TITLE_BELOW, class: "plane-title middle" }, svg);
    const side = svgEl("g", { transform: `translate(${PAD - HINT_LEFT} ${SIZE / 2}) rotate(-90)` }, svg);
    svgText("← calm", { x: -SPAN / 2, y: 0, class: "plane-hint" }, side);
    svgText("energetic →", { x: SPAN / 2, y: 0, class: "plane-hint end" }, side);
    svgText("how energetic", { x: 0, y: HINT_LEFT - TITLE_LEFT, class: "plane-title middle" }, side);

    const labels = [];
    for (const [name, [v, a]] of Object.entries(this.points)) {
      const g = svgEl("g", { class: `anchor emo-${name}` }, svg);
      svgEl("circle", { cx: toX(v), cy: toY(a), r: 4 }, g);
      const label = svgText(emotionWord(name), { y: toY(a) + 4 }, g);
      setSide(label, toX(v), v >= 0.5);
      keepInside(label, toX(v));
      labels.push(label);
    }
    spreadLabels(labels);
    this.pathLayer = svgEl("g", { class: "plane-path" }, svg);
    this.appliedDot = svgEl("circle", { r: 8, class: "applied-dot hidden" }, svg);
    // The live ring is drawn last and wider, so it stays visible around the list's dot.
    this.liveDot = svgEl("circle", { r: 12, class: "live-dot hidden" }, svg);
    this.cursorMark = svgEl("g", { class: "cursor hidden" }, svg);
    svgEl("circle", { r: 11 }, this.cursorMark);
    svgEl("line", { x1: -16, y1: 0, x2: 16, y2: 0 }, this.cursorMark);
    svgEl("line", { x1: 0, y1: -16, x2: 0, y2: 16 }, this.cursorMark);
    this.moveCursor(0, 0, false);
  }

  place(el, mood) {
    el.classList.toggle("hidden", !mood);
    if (mood) {
      // The live dot is placed once a camera frame: an unchanged place is not written again.
      const [cx, cy] = [toX(mood.valence).toFixed(1), toY(mood.arousal).toFixed(1)];
      if (el.getAttribute("cx") !== cx) el.setAttribute("cx", cx);
      if (el.getAttribute("cy") !== cy) el.setAttribute("cy", cy);
    }
  }

  /** The live (smoothed) mood from the camera; null hides it. */
  setLive(mood) {
    this.place(this.liveDot, mood);
  }

  /** The mood the current list was made for. The cursor starts from it, but not while the plane has
   * focus: a list that arrives then (the camera's first, a failed load put back) must not move the
   * cursor under the person's keys; it goes there when focus leaves. */
  setApplied(mood) {
    this.place(this.appliedDot, mood);
    if (!mood) return;
    if (document.activeElement === this.svg) this.pending = { valence: mood.valence, arousal: mood.arousal };
    else this.moveCursor(mood.valence, mood.arousal, false);
  }

  /** The playlist's path: [[valence, energy], ...] in 0..1, mapped onto the plane. */
  setPath(path) {
    const layer = this.pathLayer;
    layer.replaceChildren();
    if (!path || !path.length) return;
    const pts = path.map(([v, e]) => [toX(2 * v - 1), toY(2 * e - 1)]);
    svgEl("polyline", { points: pts.map((p) => p.map((n) => n.toFixed(1)).join(",")).join(" ") }, layer);
    pts.forEach(([x, y], i) => {
      svgEl("circle", { cx: x, cy: y, r: i === 0 || i === pts.length - 1 ? 4 : 2.5 }, layer);
    });
    const [sx, sy] = pts[0];
    const [ex, ey] = pts[pts.length - 1];
    // Label the end only when the path goes somewhere (a "match" list stays on one spot).
    if (Math.hypot(ex - sx, ey - sy) > 12) svgText("end", { x: ex + 6, y: ey - 6, class: "path-end" }, layer);
  }

  showCursor(visible) {
    this.cursorMark.classList.toggle("hidden", !visible);
  }

  moveCursor(valence, arousal, speak = true) {
    this.cursor = { valence: clamp(valence), arousal: clamp(arousal) };
    const { valence: v, arousal: a } = this.cursor;
    this.cursorMark.setAttribute("transform", `translate(${toX(v).toFixed(1)} ${toY(a).toFixed(1)})`);
    if (speak) this.sayCursor();
  }

  /** Say where the cursor is once the keys rest (SAY_AFTER_MS): a run of presses used to be said
   * press by press, each with "Press Enter to choose.", a polite queue of sentences the person had
   * already moved past. The hint comes once per visit; the plane's name says it too. */
  sayCursor() {
    clearTimeout(this.sayTimer);
    this.sayTimer = setTimeout(() => {
      const { valence: v, arousal: a } = this.cursor;
      const near = nearestEmotion(this.points, v, a);
      const hint = this.hinted ? "" : " Press Enter to choose.";
      this.hinted = true;
      this.announce(`${feelWords(v, a)}, near ${emotionWord(near)}.${hint}`);
    }, SAY_AFTER_MS);
  }

  pick() {
    const { valence, arousal } = this.cursor;
    this.onPick({ valence, arousal, emotion: nearestEmotion(this.points, valence, arousal) });
  }

  click(event) {
    const ctm = this.svg.getScreenCTM();
    if (!ctm) return;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(ctm.inverse());
    this.moveCursor(((point.x - PAD) / SPAN) * 2 - 1, 1 - ((point.y - PAD) / SPAN) * 2, false);
    this.pick();
  }

  key(event) {
    const step = event.shiftKey ? 4 * STEP : STEP;
    const { valence: v, arousal: a } = this.cursor;
    const moves = {
      ArrowLeft: [v - step, a],
      ArrowRight: [v + step, a],
      ArrowUp: [v, a + step],
      ArrowDown: [v, a - step],
      // A big step, as on a slider (they scrolled the page away from the plane that had focus).
      PageUp: [v, a + 4 * STEP],
      PageDown: [v, a - 4 * STEP],
      // Their horizontal pair, as on a two-dimensional slider (react-aria's ColorArea, whose keys a
      // 2-D slider's users meet elsewhere): Home toward unpleasant, End toward pleasant. Home went to
      // the middle before, and End did nothing (the page scrolled to its foot, the plane out of sight).
      Home: [v - 4 * STEP, a],
      End: [v + 4 * STEP, a],
    };
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key in moves) {
      event.preventDefault();
      this.showCursor(true);
      this.moveCursor(...moves[event.key]);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.pick();
    }
  }
}
