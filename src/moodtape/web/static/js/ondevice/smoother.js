// Stream smoothing, ported from vision/stream.py (FaceSmoother): each face joins the track it
// overlaps most (IoU ≥ match_iou), and its probabilities follow an exponential moving average with
// a 0.6 s time constant, so smoothing behaves the same at 5 or 30 frames per second.

import { iou } from "./yunet.js";

export class FaceSmoother {
  constructor({ time_constant: timeConstant, max_age: maxAge, match_iou: matchIou }, uncertainBelow, labels) {
    Object.assign(this, { timeConstant, maxAge, matchIou, uncertainBelow, labels });
    this.tracks = [];
    this.nextId = 1;
  }

  /** Smoothed copies of `faces` ({box, probs}) with a stable trackId each; `t` in seconds. */
  update(faces, t) {
    this.tracks = this.tracks.filter((track) => t - track.lastSeen <= this.maxAge);
    const pairs = [];
    faces.forEach((face, i) => this.tracks.forEach((track) => pairs.push([iou(face.box, track.box), i, track])));
    pairs.sort((a, b) => b[0] - a[0]);
    const assigned = new Map();
    const used = new Set();
    for (const [overlap, i, track] of pairs) {
      if (overlap >= this.matchIou && !assigned.has(i) && !used.has(track.id)) {
        assigned.set(i, track);
        used.add(track.id);
      }
    }
    return faces.map((face, i) => this.blend(face, assigned.get(i), t));
  }

  /** The ids of the tracks still alive (seen within maxAge of the last frame). */
  liveIds() {
    return new Set(this.tracks.map((track) => track.id));
  }

  /** The live track `id` as a face ({box, probs, trackId}: its last box, smoothed reading) for a
   *  frame that missed that person and found `beside`; null without such a track, or when a face in
   *  `beside` is on a track first seen after it was last seen (maybe the person, moved fast), as
   *  vision/stream.py FaceSmoother.held_face. */
  heldFace(id, beside) {
    const track = this.tracks.find((candidate) => candidate.id === id);
    if (!track) return null;
    const firstSeen = new Map(this.tracks.map((other) => [other.id, other.firstSeen]));
    if (beside.some((face) => (firstSeen.get(face.trackId) ?? Infinity) > track.lastSeen)) return null;
    return this.asFace(track);
  }

  blend(face, track, t) {
    if (!track) {
      track = { id: this.nextId++, box: face.box, probs: face.probs.slice(), lastSeen: t, firstSeen: t };
      this.tracks.push(track);
    } else {
      const elapsed = Math.max(0, t - track.lastSeen);
      const weight = this.timeConstant > 0 ? 1 - Math.exp(-elapsed / this.timeConstant) : 1;
      track.probs = track.probs.map((p, k) => p + weight * (face.probs[k] - p));
      track.box = face.box;
      track.lastSeen = t;
    }
    return this.asFace(track);
  }

  asFace(track) {
    const total = track.probs.reduce((a, b) => a + b, 0);
    return { box: track.box, probs: track.probs.map((p) => p / total), trackId: track.id };
  }
}
