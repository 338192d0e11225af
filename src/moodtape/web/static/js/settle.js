// Hysteresis for recommendations: the live mood moves every frame, the playlist must not.
// A new mood is taken only when it has stayed in another emotion's region, far enough from the
// mood the list was made for, for HOLD_MS without interruption.

/** How long a different mood must last before the list follows it (the issue asks 2–3 s). */
export const HOLD_MS = 2500;
/** How far (on the [-1, 1]² plane) the mood must move; smaller wobbles never count. */
export const MIN_DISTANCE = 0.25;
/** The first mood of a session is taken sooner, so a list appears quickly. */
export const FIRST_MS = 1000;

export function distance(a, b) {
  return Math.hypot(a.valence - b.valence, a.arousal - b.arousal);
}

export class MoodSettler {
  constructor({ holdMs = HOLD_MS, minDistance = MIN_DISTANCE, firstMs = FIRST_MS } = {}) {
    this.holdMs = holdMs;
    this.minDistance = minDistance;
    this.firstMs = firstMs;
    this.reset(null);
  }

  /** Forget the pending change; `applied` is the mood the list now shows (or null). */
  reset(applied) {
    this.applied = applied;
    this.since = null;
  }

  /** 0..1: how far a pending change has come (for a quiet "mood changing…" hint). */
  progress(now) {
    if (this.since === null) return 0;
    const hold = this.applied ? this.holdMs : this.firstMs;
    return Math.min(1, (now - this.since) / hold);
  }

  /**
   * Feed one smoothed mood (or null: no face) at time `now` in ms.
   * @returns the mood to apply now, or null to keep the current list
   */
  update(mood, now) {
    if (!mood) {
      this.since = null;
      return null;
    }
    const differs =
      !this.applied || (mood.emotion !== this.applied.emotion && distance(mood, this.applied) >= this.minDistance);
    if (!differs) {
      this.since = null;
      return null;
    }
    if (this.since === null) this.since = now;
    if (this.progress(now) < 1) return null;
    this.reset(mood);
    return mood;
  }
}
