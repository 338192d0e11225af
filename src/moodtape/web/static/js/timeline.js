// The session's mood over the last two minutes: valence and arousal as two lines.
// Samples are thinned to one per SAMPLE_MS, and a gap (no face) breaks the lines instead of
// drawing a straight line across it.

import { svgEl, svgText } from "./svg.js";
import { feelWords } from "./words.js";

export const WINDOW_MS = 120000;
const SAMPLE_MS = 250;
const GAP_MS = 1500;
/** Samples further apart than this (ms) had no watching between them: the page was hidden, the
 * camera paused, stopped or unanswered. The summary does not count that time. Samples come every
 * 70–250 ms, once a second with reduced motion, so a slow frame's wait still counts. */
const UNSEEN_MS = 3000;
const W = 360;
const H = 130;
const LEFT = 28;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 22;

const x = (t, now) => LEFT + (1 - (now - t) / WINDOW_MS) * (W - LEFT - RIGHT);
const y = (value) => TOP + ((1 - value) / 2) * (H - TOP - BOTTOM);

/** How long the summary speaks of, coarsely: tens of seconds, then half minutes up to the window. */
function spanWords(ms) {
  const seconds = Math.min(WINDOW_MS, ms) / 1000;
  if (seconds < 10) return "few seconds";
  if (seconds < 60) return `${10 * Math.floor(seconds / 10)} s`;
  return `${Math.floor(seconds / 30) / 2} min`;
}

/** The time the samples cover (ms), less the stretches nobody watched (longer than UNSEEN_MS). */
function seenMs(samples) {
  let seen = 0;
  for (let i = 1; i < samples.length; i++) {
    const step = samples[i].t - samples[i - 1].t;
    if (step <= UNSEEN_MS) seen += step;
  }
  return seen;
}

/** How the summary begins: "Over the last 20 s", or, with unwatched time in it (the page hidden
 * for 12 s), "Over a few seconds seen in the last 20 s". Before session 38 the span alone was said,
 * which counted the hidden time as watched. */
function spanLead(seen, span) {
  const [seenWords, spanWordsNow] = [spanWords(seen), spanWords(span)];
  if (seenWords === spanWordsNow) return `Over the last ${spanWordsNow}`;
  return `Over ${seen < 10000 ? "a few seconds" : seenWords} seen in the last ${spanWordsNow}`;
}

/** 0.4, never "-0.0". */
const oneDecimal = (value) => (Math.abs(value) < 0.05 ? 0 : value).toFixed(1);

export class Timeline {
  constructor(svg, summary) {
    this.svg = svg;
    this.summary = summary;
    this.samples = [];
    this.build();
  }

  build() {
    const svg = this.svg;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.replaceChildren();
    for (const value of [1, 0, -1]) {
      svgEl("line", { x1: LEFT, x2: W - RIGHT, y1: y(value), y2: y(value), class: value ? "grid" : "grid zero" }, svg);
      svgText(value > 0 ? "+1" : String(value), { x: LEFT - 5, y: y(value) + 4, class: "tick end" }, svg);
    }
    svgText("2 min ago", { x: LEFT, y: H - 5, class: "tick" }, svg);
    svgText("1 min", { x: (LEFT + W - RIGHT) / 2, y: H - 5, class: "tick middle" }, svg);
    svgText("now", { x: W - RIGHT, y: H - 5, class: "tick end" }, svg);
    this.valenceLine = svgEl("path", { class: "line valence" }, svg);
    this.arousalLine = svgEl("path", { class: "line arousal" }, svg);
  }

  /** Add one mood sample at `t` (ms, performance.now() clock); null means "no face now". */
  add(mood, t) {
    const last = this.samples[this.samples.length - 1];
    if (mood && last && last.mood && t - last.t < SAMPLE_MS) return;
    this.samples.push({ t, mood });
    this.samples = this.samples.filter((s) => t - s.t <= WINDOW_MS);
    this.draw(t);
  }

  pathFor(key, now) {
    let d = "";
    let prev = null;
    for (const s of this.samples) {
      if (!s.mood) {
        prev = null;
        continue;
      }
      const cmd = prev && s.t - prev.t < GAP_MS ? "L" : "M";
      d += `${cmd}${x(s.t, now).toFixed(1)} ${y(s.mood[key]).toFixed(1)} `;
      prev = s;
    }
    return d.trim() || "M0 0";
  }

  draw(now) {
    this.valenceLine.setAttribute("d", this.pathFor("valence", now));
    this.arousalLine.setAttribute("d", this.pathFor("arousal", now));
    const moods = this.samples.filter((s) => s.mood).map((s) => s.mood);
    if (moods.length && this.summary) {
      const mean = (key) => moods.reduce((sum, m) => sum + m[key], 0) / moods.length;
      // The summary is the chart's name (aria-labelledby): in coarse words ("the last 20 s", one
      // decimal), written only when they change, so that the name does not change once a second.
      // The numbers shown stay until the average has moved a whole tenth from them: an average
      // sitting on 0.35 flipped between "0.3" and "0.4" from one sample to the next.
      const shown = this.shownMeans;
      const [valence, arousal] = [mean("valence"), mean("arousal")];
      const moved = !shown || Math.abs(valence - shown.valence) >= 0.1 || Math.abs(arousal - shown.arousal) >= 0.1;
      const means = moved ? { valence, arousal } : shown;
      const text =
        `${spanLead(seenMs(this.samples), now - this.samples[0].t)}, on average: ` +
        `${feelWords(means.valence, means.arousal)} ` +
        `(pleasant ${oneDecimal(means.valence)}, energetic ${oneDecimal(means.arousal)}).`;
      if (this.summary.textContent === text) return;
      this.summary.textContent = text;
      this.shownMeans = means;
    }
  }
}
