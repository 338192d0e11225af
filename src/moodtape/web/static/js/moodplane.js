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
/** The plane's layout at the usual text size (the root's 16 px), in viewBox units; geometry() scales
 * it with the words. Room around the plane's square, the same on every side so that the square
 * stays in the middle: left of and below it are two lines, the axis's hints, and its title beyond
 * them (on one line with them, "how pleasant" ran into "← unpleasant", and "how energetic" into
 * "energetic →", under WCAG 1.4.12 text spacing, 10.5 px at 1280 px wide). Both fit in it: a viewBox
 * widened for the titles instead drew every word of the plane 5 % smaller, and the square
 * off-centre. The hints' and titles' baselines sit this far outside the square, below it and left of
 * it (the side's words are turned, their tops away from the square). Measured: a title's 12-px
 * letters take 11.4 units above the baseline and 3 below, a hint's 9.1 and 2.3; the rows keep 1 unit
 * apart. An anchor word starts `wordOff` from its dot, its baseline `wordDrop` below the dot. */
const LAYOUT = { pad: 30, hintBelow: 10, titleBelow: 25, hintLeft: 3, titleLeft: 16, wordOff: 7, wordDrop: 4 };
/** The root font size the plane's words are drawn for at scale 1 (style.css sizes them in rem): at
 * a larger one, never drawn under their size at this one, in viewBox units. */
const USUAL_ROOT_PX = 16;
/** A larger text size that leaves the words no room (they would overlap or leave the plane) is
 * looked for between the usual size and the person's, halving the range this many times (at 3×
 * text the last step is a twelfth of the person's size, as fine as the 0.9 steps tried one by one
 * before, which drew the plane up to 9 times). */
const FIT_HALVINGS = 3;
/** Anchor words whose boxes come closer than this (in viewBox units) are moved apart. */
const LABEL_GAP = 1;
const STEP = 0.05;
/** The cursor's words wait this long after the last key: a run of presses is said once, where it
 * ended (each press moves the cursor at once; only the words are put together). */
const SAY_AFTER_MS = 250;

/** The plane's layout for words `scale` times their usual size: the margins for the axis words grow
 * with them, and the square takes what is left. */
function geometry(scale) {
  const geo = Object.fromEntries(Object.entries(LAYOUT).map(([key, units]) => [key, units * scale]));
  geo.span = SIZE - 2 * geo.pad;
  geo.toX = (v) => geo.pad + ((v + 1) / 2) * geo.span;
  geo.toY = (a) => geo.pad + ((1 - a) / 2) * geo.span;
  return geo;
}

/** The person's text size over the usual one (2 with the browser's text size doubled), never less
 * than 1: the plane's words, in px, stayed 11-12 px while the rest of the page's text doubled. */
function textScale() {
  const root = parseFloat(getComputedStyle(document.documentElement).fontSize);
  return Number.isFinite(root) ? Math.max(1, root / USUAL_ROOT_PX) : 1;
}

/** What the room the plane's words need depends on: the text size, and the spacing of letters and
 * words in them (WCAG 1.4.12's, which a person's style sheet may set at any time). */
function textLook(svg) {
  const word = svg.querySelector("text");
  const style = word ? getComputedStyle(word) : null;
  return `${textScale()} ${style ? `${style.letterSpacing} ${style.wordSpacing}` : ""}`;
}

/** Whether every word drawn in `svg` is inside it and clear of the others (CSS px, as drawn; the
 * side's turned words included). Unrendered (no box yet): taken to fit. */
function wordsFit(svg) {
  const plane = svg.getBoundingClientRect();
  if (!plane.width) return true;
  const boxes = [...svg.querySelectorAll("text")].map((t) => t.getBoundingClientRect()).filter((r) => r.width);
  return boxes.every((r, i) => {
    const inside = r.left >= plane.left - 0.5 && r.right <= plane.right + 0.5 && r.top >= plane.top - 0.5 && r.bottom <= plane.bottom + 0.5;
    const clear = boxes.slice(i + 1).every((q) => Math.min(r.right, q.right) - Math.max(r.left, q.left) <= 0.5 || Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top) <= 0.5);
    return inside && clear;
  });
}

export function nearestEmotion(points, valence, arousal) {
  let best = null;
  let bestD = Infinity;
  for (const [name, [v, a]] of Object.entries(points)) {
    const d = Math.hypot(v - valence, a - arousal);
    if (d < bestD) [best, bestD] = [name, d];
  }
  return best;
}

/** The box `label` takes, as measured. Text spacing (WCAG 1.4.12) set later draws the plane again
 * (followTextSize): the words were measured 35 % wider for it, which left larger words no place. */
function roomOf(label) {
  const box = label.getBBox();
  return { left: box.x, right: box.x + box.width, top: box.y, bottom: box.y + box.height };
}

/** How far `room` reaches out of the place anchor words may take, left and right together (0:
 * inside): the plane's square, and the empty margin right of it (the one on the left, `pad` wide,
 * holds the "calm / energetic" words). */
function overflowOf(room, pad) {
  return Math.max(0, pad - room.left) + Math.max(0, room.right - SIZE);
}

/** Put `label` (an anchor word) on one side of its dot at `dotX`: its start (`end` false) or its end
 * next to the dot. */
function setSide(label, dotX, end, geo) {
  label.setAttribute("x", String(dotX + (end ? -geo.wordOff : geo.wordOff)));
  label.classList.toggle("end", end);
}

/**
 * Keep an anchor word inside the plane, room for text spacing included: a word too long for its
 * usual side of the dot (right of it on the left half, left of it on the right half) goes to the
 * other side. Before, a longer word ran out of the plane ("surprised" in another language, 44 units
 * past the square's right side, 14 past the plane's). Unrendered (no box yet): left as is.
 */
function keepInside(label, dotX, geo) {
  const before = overflowOf(roomOf(label), geo.pad);
  if (before === 0) return;
  const end = label.classList.contains("end");
  setSide(label, dotX, !end, geo);
  if (overflowOf(roomOf(label), geo.pad) >= before) setSide(label, dotX, end, geo);
}

/** A word may be nudged this share of its height down off its dot's line to clear the one above it
 * (with the usual points "afraid" is, 2.5 units below "angry"); further, it goes elsewhere. */
const NUDGE = 0.3;

/** Whether `room` meets a word already placed (closer than LABEL_GAP above or below) or covers
 * another anchor's dot. */
function clashes(room, placed, dots) {
  const meets = (other, gap) =>
    room.left < other.right && other.left < room.right && room.top < other.bottom + gap && other.top < room.bottom + gap;
  return placed.some((other) => meets(other, LABEL_GAP)) || dots.some((dot) => meets(dot, 0));
}

/** How far `room` is from the point (x, y): 0 when it holds it. */
function distanceTo(room, x, y) {
  return Math.hypot(Math.max(room.left - x, 0, x - room.right), Math.max(room.top - y, 0, y - room.bottom));
}

/** Whether `room` is nearer its own dot at (dotX, dotY) than any of the `others` (their boxes): a
 * word nearer another emotion's dot reads as that dot's name. */
function nearestToOwn(room, dotX, dotY, others) {
  const own = distanceTo(room, dotX, dotY);
  return others.every((dot) => distanceTo(room, (dot.left + dot.right) / 2, (dot.top + dot.bottom) / 2) > own);
}

/** Where an anchor word may go, best first: beside its dot on the side keepInside chose, on the
 * other side, then above or below the dot's line on either side. Each is `[end, shift]`: shift
 * moves the measured box's top ("above": its foot at the dot's line; "below": its top there). */
function placesFor(end) {
  const beside = (room) => 0 * room.top;
  const above = (room, dotY) => dotY + 1 - room.bottom;
  const below = (room, dotY) => dotY - 1 - room.top;
  return [
    [end, beside],
    [!end, beside],
    [end, above],
    [end, below],
    [!end, above],
    [!end, below],
  ];
}

/** Move `label` (and its `room`) by `down` units. */
function shiftLabel(label, room, down) {
  label.setAttribute("y", String(Number(label.getAttribute("y")) + down));
  return { ...room, top: room.top + down, bottom: room.bottom + down };
}

/**
 * Give each anchor word a place by its own dot, top to bottom, clear of the words placed before it
 * and of the other dots, nearer its own dot than any other, inside the plane: beside the dot (nudged down a little when it meets the word
 * above: with the usual points "angry" and "afraid" sat 13 units apart, their boxes 1.5 units into
 * each other), else on its other side, else just above or below the dot's line. A word with no such
 * place goes down below the word it meets, as all did before, and the plane is said not to fit: at
 * twice the text size "angry", "afraid" and "disgusted" pushed each other down until "afraid" stood
 * beside the dot of "disgusted". Unrendered (no box yet): left as is.
 * @returns whether every word found a place by its dot
 */
function placeLabels(anchors, geo) {
  const dots = anchors.map(({ dotX, dotY }) => ({ left: dotX - 4, right: dotX + 4, top: dotY - 4, bottom: dotY + 4 }));
  const placed = [];
  let everyOne = true;
  const order = anchors.map((anchor, i) => ({ ...anchor, others: dots.filter((_, j) => j !== i) }));
  for (const { label, dotX, dotY, others } of order.sort((p, q) => p.dotY - q.dotY)) {
    if (!label.getBBox().height) return true;
    const y = label.getAttribute("y");
    const fits = (room) => overflowOf(room, geo.pad) === 0 && room.top >= 0 && room.bottom <= geo.pad + geo.span;
    let found = null;
    for (const [end, shift] of placesFor(label.classList.contains("end"))) {
      setSide(label, dotX, end, geo);
      label.setAttribute("y", y);
      let room = roomOf(label);
      room = shiftLabel(label, room, shift(room, dotY));
      const above = placed.filter((o) => room.left < o.right && o.left < room.right && o.top <= room.top);
      const nudge = Math.max(0, ...above.map((o) => o.bottom + LABEL_GAP - room.top));
      if (nudge > 0 && nudge <= NUDGE * (room.bottom - room.top)) room = shiftLabel(label, room, nudge);
      if (fits(room) && !clashes(room, placed, others) && nearestToOwn(room, dotX, dotY, others)) {
        found = room;
        break;
      }
    }
    if (!found) {
      everyOne = false;
      found = pushBelow(label, dotX, y, placed, geo);
    }
    placed.push(found);
  }
  return everyOne;
}

/** The old way, when nothing else fits: beside the dot on its inside side, moved down below every
 * word above it that it meets. */
function pushBelow(label, dotX, y, placed, geo) {
  setSide(label, dotX, label.classList.contains("end"), geo);
  label.setAttribute("y", y);
  keepInside(label, dotX, geo);
  let room = roomOf(label);
  for (const other of [...placed].sort((p, q) => p.top - q.top)) {
    const down = other.bottom + LABEL_GAP - room.top;
    if (room.left < other.right && other.left < room.right && down > 0 && room.top >= other.top) room = shiftLabel(label, room, down);
  }
  return room;
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
    /** What the plane shows, kept to be drawn again when the text size changes (build). */
    this.live = null;
    this.applied = null;
    this.path = null;
    /** The share of the person's text size the words fit at, per text look and points (build). */
    this.fits = new Map();
    this.build();
    this.followTextSize();
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

  /** Draw the plane with its words at the person's text size (style.css: rem), or as near to it as
   * leaves every word inside the plane and clear of the others; at worst at the usual size in
   * viewBox units (on screen smaller than at 1× where the page's larger margins narrow the plane: a
   * phone at 3× text). */
  build() {
    const scale = textScale();
    const key = `${textLook(this.svg)} ${JSON.stringify(this.points)}`;
    const known = this.fits.get(key);
    if (known !== undefined) this.draw(scale * known, known);
    else this.fits.set(key, this.findFit(scale));
    this.look = textLook(this.svg);
  }

  /** Draw the plane at the largest share of the person's text size `scale` (at least the usual
   * size) that lets its words fit, found by halving (FIT_HALVINGS), and return that share. What
   * fits is the same at any width (the layout is in viewBox units, the words too): build keeps it
   * per text look and points, and draws once the next time (the config's points, the same
   * again; a text size set back to one fitted before). Before, each build drew up to 9 times, and the page built twice at load: a page
   * opened at 3× text took 961 forced layouts at 390×844. */
  findFit(scale) {
    const fits = (fit) => this.draw(scale * fit, fit) && wordsFit(this.svg);
    if (fits(1) || scale <= 1) return 1;
    let [good, bad] = [1 / scale, 1];
    let drawn = bad;
    for (let i = 0; i < FIT_HALVINGS; i++) {
      const middle = (good + bad) / 2;
      drawn = middle;
      if (fits(middle)) good = middle;
      else bad = middle;
    }
    if (drawn !== good) this.draw(scale * good, good);
    return good;
  }

  /** The emotions' points from the server's config: drawn again only if they differ from those
   * drawn (the defaults are the server's own, and a second build doubled the page's start-up work). */
  setPoints(points) {
    if (JSON.stringify(points) === JSON.stringify(this.points)) return;
    this.points = points;
    this.build();
  }

  /** The text size or spacing changed (the browser's text size, a person's style sheet): draw the
   * plane again for it, with what it showed. Heard through the size of the page and of the legend's
   * words, which such a change alters; the observer answers before the next paint, so the words are
   * never seen clashing. */
  followTextSize() {
    const observer = new ResizeObserver(() => {
      if (textLook(this.svg) !== this.look) this.build();
    });
    observer.observe(document.documentElement);
    // As wide as its words: wider with any spacing of letters or words, even one that wraps nothing.
    const legendWords = document.querySelector("#plane-help .legend-item");
    if (legendWords) observer.observe(legendWords);
  }

  /** Draw everything for words `scale` times their usual size, `fit` of the person's own size (a
   * CSS variable the words' sizes are multiplied by); what was shown is shown again.
   * @returns whether every anchor word found a place by its own dot (placeLabels) */
  draw(scale, fit) {
    const svg = this.svg;
    const geo = geometry(scale);
    this.geo = geo;
    const { pad, span, toX, toY } = geo;
    svg.style.setProperty("--plane-fit", String(fit));
    svg.setAttribute("viewBox", `0 0 ${SIZE} ${SIZE}`);
    svg.replaceChildren();
    svgEl("rect", { x: pad, y: pad, width: span, height: span, rx: 10, class: "plane-bg" }, svg);
    svgEl("circle", { cx: toX(0), cy: toY(0), r: span / 2, class: "plane-circle" }, svg);
    svgEl("line", { x1: pad, y1: toY(0), x2: pad + span, y2: toY(0), class: "plane-axis" }, svg);
    svgEl("line", { x1: toX(0), y1: pad, x2: toX(0), y2: pad + span, class: "plane-axis" }, svg);
    // Axis words sit outside the plane, so they never hide an anchor or the path; each title on a
    // line of its own, further out than its two hints, so that wider words cannot run into them.
    const below = pad + span + geo.hintBelow;
    svgText("← unpleasant", { x: pad, y: below, class: "plane-hint" }, svg);
    svgText("pleasant →", { x: pad + span, y: below, class: "plane-hint end" }, svg);
    svgText("how pleasant", { x: SIZE / 2, y: pad + span + geo.titleBelow, class: "plane-title middle" }, svg);
    const side = svgEl("g", { transform: `translate(${pad - geo.hintLeft} ${SIZE / 2}) rotate(-90)` }, svg);
    svgText("← calm", { x: -span / 2, y: 0, class: "plane-hint" }, side);
    svgText("energetic →", { x: span / 2, y: 0, class: "plane-hint end" }, side);
    svgText("how energetic", { x: 0, y: geo.hintLeft - geo.titleLeft, class: "plane-title middle" }, side);

    const anchors = [];
    for (const [name, [v, a]] of Object.entries(this.points)) {
      const g = svgEl("g", { class: `anchor emo-${name}` }, svg);
      const [dotX, dotY] = [toX(v), toY(a)];
      svgEl("circle", { cx: dotX, cy: dotY, r: 4 }, g);
      const label = svgText(emotionWord(name), { y: dotY + geo.wordDrop }, g);
      setSide(label, dotX, v >= 0.5, geo);
      keepInside(label, dotX, geo);
      anchors.push({ label, dotX, dotY });
    }
    const placed = placeLabels(anchors, geo);
    this.pathLayer = svgEl("g", { class: "plane-path" }, svg);
    this.appliedDot = svgEl("circle", { r: 8, class: "applied-dot hidden" }, svg);
    // The live ring is drawn last and wider, so it stays visible around the list's dot.
    this.liveDot = svgEl("circle", { r: 12, class: "live-dot hidden" }, svg);
    this.cursorMark = svgEl("g", { class: "cursor hidden" }, svg);
    svgEl("circle", { r: 11 }, this.cursorMark);
    svgEl("line", { x1: -16, y1: 0, x2: 16, y2: 0 }, this.cursorMark);
    svgEl("line", { x1: 0, y1: -16, x2: 0, y2: 16 }, this.cursorMark);
    this.place(this.appliedDot, this.applied);
    this.place(this.liveDot, this.live);
    this.setPath(this.path);
    this.moveCursor(this.cursor.valence, this.cursor.arousal, false);
    this.showCursor(document.activeElement === svg);
    return placed;
  }

  place(el, mood) {
    el.classList.toggle("hidden", !mood);
    if (mood) {
      // The live dot is placed once a camera frame: an unchanged place is not written again.
      const [cx, cy] = [this.geo.toX(mood.valence).toFixed(1), this.geo.toY(mood.arousal).toFixed(1)];
      if (el.getAttribute("cx") !== cx) el.setAttribute("cx", cx);
      if (el.getAttribute("cy") !== cy) el.setAttribute("cy", cy);
    }
  }

  /** The live (smoothed) mood from the camera; null hides it. */
  setLive(mood) {
    this.live = mood;
    this.place(this.liveDot, mood);
  }

  /** The mood the current list was made for. The cursor starts from it, but not while the plane has
   * focus: a list that arrives then (the camera's first, a failed load put back) must not move the
   * cursor under the person's keys; it goes there when focus leaves. */
  setApplied(mood) {
    this.applied = mood;
    this.place(this.appliedDot, mood);
    if (!mood) return;
    if (document.activeElement === this.svg) this.pending = { valence: mood.valence, arousal: mood.arousal };
    else this.moveCursor(mood.valence, mood.arousal, false);
  }

  /** The playlist's path: [[valence, energy], ...] in 0..1, mapped onto the plane. */
  setPath(path) {
    this.path = path;
    const layer = this.pathLayer;
    layer.replaceChildren();
    if (!path || !path.length) return;
    const { toX, toY } = this.geo;
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
    const { toX, toY } = this.geo;
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
    const { pad, span } = this.geo;
    this.moveCursor(((point.x - pad) / span) * 2 - 1, 1 - ((point.y - pad) / span) * 2, false);
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
