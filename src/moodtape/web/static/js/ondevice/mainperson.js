// The stream's main person, ported from vision/main_person.py (MainPerson): the live mood is the
// person at the camera's, not a blend with a bystander's. At first (and once their track has
// expired) the most prominent face is the person; they are held while their track lives, through
// frames that miss them, and handed over only to a face `clearly_more` × as prominent for
// `takeover_seconds`. Box sides jitter by about ±7.5 % a frame, so each track's prominence is
// smoothed over `prominence_time_constant` seconds (by the time between frames) and a challenger
// starts over only once it has been below the bar for `lapse_seconds`. The constants come from
// GET /api/ondevice (`main_person`), so both paths order faces alike.

/** A face's box side, less off centre: how much it looks like the person at the camera. */
export function prominence(face, width, height, offCentreWeight) {
  const { x, y, w, h } = face.box;
  const halfDiagonal = Math.hypot(width, height) / 2 || 1;
  const offCentre = Math.hypot(x + w / 2 - width / 2, y + h / 2 - height / 2);
  return Math.max(w, h) * (1 - offCentreWeight * Math.min(1, offCentre / halfDiagonal));
}

/** `ordered` (from MainPerson.order) led by the main person's held face when this frame missed them
 *  but found others, as vision/main_person.py held_first: `held(trackId, faces)` gives their
 *  track's last box and smoothed reading, or null when one of `faces` may be them on a new track.
 *  A bystander's face never gives the live mood. The held face comes marked `held`. */
export function heldFirst(ordered, mainTrackId, held) {
  if (!ordered.length || mainTrackId === null || ordered.some((face) => face.trackId === mainTrackId)) return ordered;
  const face = held(mainTrackId, ordered);
  return face ? [{ ...face, held: true }, ...ordered] : ordered;
}

export class MainPerson {
  constructor({
    off_centre_weight: offCentreWeight,
    clearly_more: clearlyMore,
    takeover_seconds: takeoverSeconds,
    prominence_time_constant: timeConstant,
    lapse_seconds: lapseSeconds,
  }) {
    Object.assign(this, { offCentreWeight, clearlyMore, takeoverSeconds, timeConstant, lapseSeconds });
    this.trackId = null;
    this.challenger = null;
    this.challengerSince = 0;
    this.belowSince = null;
    this.smoothed = new Map(); // track id -> [smoothed prominence, time last updated]
  }

  /** `faces` ({box: {x, y, w, h}, trackId}) with the main person's first when in this frame; `live`:
   *  the ids of the tracks still alive; `t`: this frame's time in seconds. */
  order(faces, width, height, live, t) {
    this.smooth(faces, width, height, live, t);
    if (!faces.length) {
      this.lapse(t);
      return faces;
    }
    // A stable sort, as Python's: of two equally prominent faces the first listed wins.
    const ranked = faces.slice().sort((a, b) => this.prominence(b) - this.prominence(a));
    let main = faces.find((face) => face.trackId === this.trackId);
    if (!main) {
      if (live.has(this.trackId)) return faces; // missed in this frame only: still the person
      [this.trackId, this.challenger, this.belowSince] = [ranked[0].trackId, null, null];
      main = ranked[0];
    } else {
      main = this.handOver(main, ranked, t);
    }
    return [main, ...faces.filter((face) => face !== main)];
  }

  /** The face's smoothed prominence (`smooth` has seen it in this frame). */
  prominence(face) {
    return this.smoothed.get(face.trackId ?? -1)[0];
  }

  /** Blend each face's prominence into its track's (a step back in time moves nothing); forget the
   *  tracks that have expired. */
  smooth(faces, width, height, live, t) {
    for (const track of [...this.smoothed.keys()]) {
      if (!live.has(track)) this.smoothed.delete(track);
    }
    for (const face of faces) {
      const track = face.trackId ?? -1;
      let now = prominence(face, width, height, this.offCentreWeight);
      const before = this.smoothed.get(track);
      if (before) {
        const weight = 1 - Math.exp(-Math.max(0, t - before[1]) / this.timeConstant);
        now = before[0] + weight * (now - before[0]);
      }
      this.smoothed.set(track, [now, t]);
    }
  }

  /** `main`, or the most prominent other face once it has been clearly more prominent for
   *  `takeoverSeconds` (with lapses shorter than `lapseSeconds`). */
  handOver(main, ranked, t) {
    const top = ranked.find((face) => face !== main);
    if (!top || this.prominence(top) < this.clearlyMore * this.prominence(main)) {
      this.lapse(t);
      return main;
    }
    if (this.challenger !== top.trackId || t < this.challengerSince) {
      [this.challenger, this.challengerSince] = [top.trackId, t];
    }
    this.belowSince = null;
    if (t - this.challengerSince < this.takeoverSeconds) return main;
    [this.trackId, this.challenger] = [top.trackId, null];
    return top;
  }

  /** No face is clearly more prominent in this frame: the challenger starts over once that has
   *  lasted `lapseSeconds`. */
  lapse(t) {
    if (this.challenger === null) return;
    if (this.belowSince === null || t < this.belowSince) this.belowSince = t;
    if (t - this.belowSince >= this.lapseSeconds) [this.challenger, this.belowSince] = [null, null];
  }
}
