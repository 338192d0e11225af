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
/** "No face" shows in words (the mood line, the faces summary, the picture's note) once it has lasted
 * this long. A face the camera missed for 0.1–0.6 s at a time flipped them between "Live mood: happy"
 * and "No face in view" 2–3 times a second; a person who walks away is told within 2 s. */
export const NO_FACE_SHOWN_MS = 1500;

/** Whether a frame without a face is shown as such yet: until NO_FACE_SHOWN_MS after the last face,
 * the last reading stays in words (the face boxes still follow every frame). */
export class FaceGap {
  constructor(holdMs = NO_FACE_SHOWN_MS) {
    this.holdMs = holdMs;
    this.reset();
  }

  /** Forget the last face (the camera started): a first frame without one is shown at once. */
  reset() {
    this.seenAt = -Infinity;
  }

  /** @returns whether the frame at `now` ms, with a face or not, is to be shown in words */
  shows(hasFace, now) {
    if (hasFace) this.seenAt = now;
    return hasFace || now - this.seenAt >= this.holdMs;
  }
}

export class Announcer {
  /**
   * @param say (text, label, news, saidNews, sameFace) → void  writes into the live region
   * @param words (label|null|undefined, news, saidNews, sameFace) → text  what to say for a settled
   *   label (null = no face; undefined: no settled label, the news alone), and the news with it (a
   *   label; undefined: none), which may be about another label; saidNews: the news the line before
   *   said (a label, or undefined), which is not to be said again; sameFace: the label is the one
   *   said last, said again only because news came for it (its words need not be repeated)
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
    this.forgetWait();
    /** The label last said with its news: the same news added again (the offer came back as the
     * face flickered) is not news until another mood has been said. */
    this.spokenNews = undefined;
  }

  /** The frames stop and start again (live updates paused, then resumed): the face must settle
   * afresh, but what was said stays said. A screen reader heard "Your face looks happy." before the
   * pause; the same line again on resuming tells them nothing (a reset said it every time), while a
   * mood that changed meanwhile is news and is said once it has settled, as any change is. */
  restart() {
    this.candidate = undefined;
    this.since = 0;
    this.noneSince = null;
    this.forgetWait();
  }

  /** The page said a line of its own in the same region at `now` ms (a press answered: "The list
   * follows your face again."): the next mood waits the gap after it, as after a line of its own.
   * Else a mood settling a moment later replaced it before a screen reader had read it out. What was
   * said last about the face stays as it was. */
  saidOther(now) {
    this.spokenAt = now;
  }

  /** The words for `label` now carry news (a new list is ready for it): say them again, even if the
   * label was just said, as soon as the gap allows; but not if they were last said with this news
   * already (a flickering face brings the same offer back again and again). */
  addNews(label) {
    this.news = label;
    this.forgetWait();
  }

  /** Start the wait of news afresh (update() says news alone only after a face went by unsettled). */
  forgetWait() {
    /** When the news was first fed a frame (ms), or null. */
    this.newsSince = null;
    /** A face that came once the news could be said went by without settling. */
    this.restless = false;
  }

  /** The news went (the offer was taken or withdrawn) before it was said: say nothing for it. */
  forgetNews() {
    this.news = undefined;
    this.forgetWait();
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
    if (this.news !== undefined && this.newsSince === null) this.newsSince = now;
    if (seen !== this.candidate) {
      // The face that ends here came once the news could be said, and never settled: the face is
      // restless, and the news is not kept back any longer for a face that would carry it.
      const readyAt = Math.max(this.newsSince ?? Infinity, this.spokenAt + this.gapMs);
      if (this.news !== undefined && this.candidate !== undefined && this.since >= readyAt) this.restless = true;
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
    if (now - this.spokenAt < this.gapMs) return null;
    const faceSettled = stable && !(hold && seen !== null);
    // The offer is settled news even while the face is not: a face that changes every 2 s never
    // holds a label for STABLE_MS, and its offers (a new one every 15 s) were on screen, never said.
    // It waits for a face that settles, to go with its words, until one goes by without settling.
    if (news !== undefined && !faceSettled && this.restless) return this.sayNewsAlone(news, now);
    if (!faceSettled || !fresh) return null;
    // Nothing said yet and no face: silence is the right first word.
    if (seen === null && this.spoken === undefined) return null;
    // The offer said on the line before (alone, while the face was restless) is not news for the
    // face that now settles on its mood: `words` leaves it out (it was said twice, 5 s apart).
    const saidNews = this.spokenNews;
    // The face's word said last, fresh only for its news (an offer that came, or changed to another
    // mood, while the face held still): before, "Your face looks angry." was said twice, 15 s apart.
    const sameFace = seen === this.spoken;
    this.spoken = seen;
    this.spokenAt = now;
    this.spokenNews = news;
    this.news = undefined;
    this.forgetWait();
    const text = this.words(seen, news, saidNews, sameFace);
    this.say(text, seen, news, saidNews, sameFace);
    return text;
  }

  /** Say the news (a new list is ready for `news`) without a face's word: no face's label is
   * settled, and the label last said stays what it was (a face that settles later is still said). */
  sayNewsAlone(news, now) {
    this.spokenAt = now;
    this.spokenNews = news;
    this.news = undefined;
    this.forgetWait();
    const text = this.words(undefined, news);
    this.say(text, undefined, news);
    return text;
  }
}

/** Milliseconds between redraws of boxes and bars: every frame, or once a second for reduced motion. */
export function redrawInterval() {
  return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches ? 1000 : 0;
}
