// Calm live updates: what a screen reader hears while the camera runs, and how often the picture
// redraws. A face changes every frame; people should hear only a mood that has settled, only when
// it changes, and no more often than every few seconds (WCAG 2.2.2, and plain courtesy).

/** A label must be seen on every frame for this long before it counts as settled. */
export const STABLE_MS = 2000;
/** "No face" must last this long to count at all: shorter gaps (a turned head, a missed detection)
 * neither interrupt a mood nor get said. */
export const STABLE_NONE_MS = 4000;
/** At most one announcement in this many milliseconds. */
export const GAP_MS = 5000;

export class Announcer {
  /**
   * @param say (text, label, news) → void  writes into the live region
   * @param words (label|null, news) → text  what to say for a settled label (null = no face), and
   *   the news with it (a label; undefined: none), which may be about another label
   */
  constructor(say, words, { stableMs = STABLE_MS, stableNoneMs = STABLE_NONE_MS, gapMs = GAP_MS } = {}) {
    this.say = say;
    this.words = words;
    this.stableMs = stableMs;
    this.stableNoneMs = stableNoneMs;
    this.gapMs = gapMs;
    this.reset();
  }

  /** Forget everything (camera stopped, mode changed). */
  reset() {
    this.candidate = undefined;
    this.since = 0;
    this.noneSince = null;
    this.spoken = undefined;
    this.spokenAt = -Infinity;
    this.news = undefined;
    /** The label last said with its news: the same news added again (the offer came back as the
     * face flickered) is not news until another mood has been said. */
    this.spokenNews = undefined;
  }

  /** The words for `label` now carry news (a new list is ready for it): say them again, even if the
   * label was just said, as soon as the gap allows; but not if they were last said with this news
   * already (a flickering face brings the same offer back again and again). */
  addNews(label) {
    this.news = label;
  }

  /** The news went (the offer was taken or withdrawn) before it was said: say nothing for it. */
  forgetNews() {
    this.news = undefined;
    // The offer is gone (taken, withdrawn or replaced by a list): a later offer for the same mood
    // is new, and a screen reader must hear it as a sighted person sees it.
    this.spokenNews = undefined;
  }

  /**
   * Feed the label of one frame (an emotion, or null for no face) at `now` ms.
   * `hold`: the list is still deciding whether this mood gets a new list (settle.js holds a change
   * half a second longer than a mood takes to settle). A face is then said once, when the decision
   * is made, with the offer in the same words, instead of once now and again with the offer.
   * @returns the text announced now, or null
   */
  update(label, now, { hold = false } = {}) {
    if (label !== null) this.noneSince = null;
    else if (this.noneSince === null) this.noneSince = now;
    const shortGap = label === null && now - this.noneSince < this.stableNoneMs;
    const seen = shortGap ? this.candidate : label;
    if (seen === undefined) return null;
    if (seen !== this.candidate) {
      this.candidate = seen;
      // A gap that has lasted long enough counts from its start.
      this.since = seen === null ? this.noneSince : now;
    }
    const stable = now - this.since >= (seen === null ? this.stableNoneMs : this.stableMs);
    // News not said yet counts whichever mood the face shows now: an offer for "sad" that came while
    // the 5-s gap held its words back, the face gone on to "surprised" meanwhile, was on screen for
    // 15 s and never said (its news went with the next mood's words, unsaid).
    const news = this.news !== undefined && this.news !== this.spokenNews ? this.news : undefined;
    const fresh = seen !== this.spoken || news !== undefined;
    if (!stable || !fresh || (hold && seen !== null) || now - this.spokenAt < this.gapMs) return null;
    // Nothing said yet and no face: silence is the right first word.
    if (seen === null && this.spoken === undefined) return null;
    this.spoken = seen;
    this.spokenAt = now;
    this.spokenNews = news;
    this.news = undefined;
    const text = this.words(seen, news);
    this.say(text, seen, news);
    return text;
  }
}

/** Milliseconds between redraws of boxes and bars: every frame, or once a second for reduced motion. */
export function redrawInterval() {
  return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches ? 1000 : 0;
}
