// Personal calibration ("calibrate to your face"), a self-contained module: it fills the element
// #calibration in the camera stage, grabs a few frames from the live #video while the person looks
// neutral (about 3 s) and, if they like, smiles, frowns, looks sad or surprised, and posts each frame
// to /api/calibration. The server keeps only what the model read from the face, with the session;
// from then on /api/analyze reads this person's faces through it. "Remove" forgets it. Once
// calibrated, a "Not my mood" correction made while the camera runs adds the face in view as an
// example of the emotion the person names.
//
// It imports nothing from the page's other modules on purpose, only the page's words for emotions
// and its deadline signals (words.js and signals.js, which import nothing): the page can change around it, and the only hooks it needs are
// the mount element plus the <script> tag in index.html, and events heard at the document.

import { deadlineSignal, eitherSignal } from "./signals.js";
import { emotionWord } from "./words.js";

/** Refusals of one frame that skip it rather than end the step: no face in it, or another face
 * about as near as the person's (someone passing behind; the server cannot tell whose face it is). */
const SKIPPED_FRAMES = new Set(["no_face", "several_faces"]);

const NEUTRAL_FRAMES = 5; // over about 3 s
const EXPRESSION_FRAMES = 3;
/** A step counts as done with more than half of its frames showing a face (3 of 5, 2 of 3): one
 * frame is one blink or one turn of the head, not a resting face. */
const enough = (frames) => Math.floor(frames / 2) + 1;
/** Longest wait for the server's answer to one call (the page's other requests: docs/page.md). */
const DEADLINE_MS = 20000;
const FRAME_GAP_MS = 600;
const GET_READY_MS = 1200;
const MAX_SIDE = 640;
/** Optional steps: what the button says → the emotion the frames are examples of. */
const EXPRESSIONS = [
  ["Smile", "happy", "Smile!"],
  ["Frown", "angry", "Frown, as if annoyed."],
  ["Look sad", "sad", "Look sad."],
  ["Look surprised", "surprise", "Look surprised!"],
];

/** The event history.js sends on the document once the server has deleted this session's data. */
const HISTORY_DELETED = "moodtape:history-deleted";
/** Said by photo.js when the server's word on a photo's calibration is not the badge's. */
const CALIBRATION_DIFFERS = "moodtape:calibration-differs";

/** Wait `ms`, or less when `signal` aborts (a stopped calibration does not wait out its gap). */
const sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal && signal.aborted) return resolve(); // stopped already: its abort event has passed
    const timer = setTimeout(resolve, ms);
    if (signal)
      signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
  });

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function sentence(text) {
  const trimmed = String(text || "").trim() || "Something went wrong";
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** fetch → JSON; a failure becomes an Error whose `code` is the server's error code. */
async function call(method, url, { body, contentType, signal } = {}) {
  const headers = method === "GET" ? {} : { "X-CSRF-Token": csrfToken() };
  if (contentType) headers["Content-Type"] = contentType;
  const deadline = deadlineSignal(DEADLINE_MS);
  const both = eitherSignal(signal, deadline); // the step's stop, or the deadline
  let response;
  try {
    response = await fetch(url, { method, body, headers, credentials: "same-origin", signal: both });
  } catch (err) {
    if (signal && signal.aborted) throw Object.assign(new Error("Stopped."), { code: "stopped" });
    const words = deadline.aborted ? `The moodtape server did not answer in ${DEADLINE_MS / 1000} s.` : "Can't reach the moodtape server.";
    throw Object.assign(new Error(words), { code: "unreachable", cause: err });
  }
  const data = await response.json().catch(() => null);
  if (response.ok) return data;
  const error = (data && data.error) || {};
  throw Object.assign(new Error(sentence(error.message || `The server answered ${response.status}`)), {
    code: error.code || `http_${response.status}`,
  });
}

function grabFrame(video, canvas) {
  const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
  canvas.width = Math.max(1, Math.round(video.videoWidth * scale));
  canvas.height = Math.max(1, Math.round(video.videoHeight * scale));
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("could not encode the frame"))), "image/jpeg", 0.85),
  );
}

function element(tag, { className, text, attrs } = {}) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text) el.textContent = text;
  for (const [name, value] of Object.entries(attrs || {})) el.setAttribute(name, value);
  return el;
}

/** Whether the camera is on: its stream live, its picture there (after "Stop camera" the video still
 * reports a 1×1 picture, a blank frame). */
function cameraOn(video) {
  const stream = video && video.srcObject;
  return Boolean(stream && stream.active && video.videoWidth > 1 && !document.hidden);
}

/** How long a press waits for a camera whose stream is live but whose first picture has not come. */
const FIRST_PICTURE_WAIT_MS = 3000;

/** Wait, at most FIRST_PICTURE_WAIT_MS, for the first picture of a stream already live: a press
 * right after "Start camera" (the browser said yes, the picture a few hundred ms away) was told
 * "Start the camera first." while the camera was on. Returns whether the camera is on. */
async function cameraOnSoon(video) {
  if (cameraOn(video)) return true;
  const stream = video && video.srcObject;
  if (!stream || !stream.active || document.hidden) return false;
  await new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      video.removeEventListener("loadedmetadata", done);
      video.removeEventListener("resize", done);
      resolve();
    };
    const timer = setTimeout(done, FIRST_PICTURE_WAIT_MS);
    video.addEventListener("loadedmetadata", done);
    video.addEventListener("resize", done);
  });
  return cameraOn(video);
}

/** Whether `el` is on screen: neither out of the layout (hidden) nor invisible (Remove, the steps). */
function isShown(el) {
  if (!el.getClientRects().length) return false;
  return el.checkVisibility ? el.checkVisibility({ visibilityProperty: true }) : getComputedStyle(el).visibility !== "hidden";
}

function describe(status) {
  if (!status.calibrated) return "Not calibrated";
  const others = Object.keys(status.examples).filter((label) => label !== "neutral");
  if (!others.length) return "Calibrated (neutral)";
  // Expressions counted but not learnt (the resting face looked happy or surprised): naming them
  // would claim a learning that did not happen.
  return status.expressions ? `Calibrated (neutral, ${others.map(emotionWord).join(", ")})` : "Calibrated (neutral only)";
}

/** What to do when the resting face read as a smile or an open mouth (the server's `neutral_reads_as`):
 * rest and calibrate again, unless the face rests that way. */
const REST_AND_AGAIN = 'Choose "Calibrate again" with a relaxed face; if this is how your face rests, the neutral baseline alone is used.';

/** The same advice where the model never learns expressions (`answer.learns_expressions` false):
 * a smiling resting face then costs none, but it is still the baseline every reading is made against. */
const REST_AGAIN_FOR_THE_BASELINE = 'choose "Calibrate again" with a relaxed face, unless this is how your face rests.';

/** Whether the server's model learns no expressions at all (no embedding output): its answer says
 * so in `learns_expressions`. Then the resting face is never the reason an expression was not
 * learnt, smile or not (`neutral_reads_as` is set for any model). An answer without the field
 * (a server before session 32) is read as before, by `neutral_reads_as` alone. */
function learnsOnlyTheRestingFace(answer) {
  return answer.learns_expressions === false;
}

/** Whether the resting face is why this calibration learns no expressions as it stands: the
 * answer's `learning_expressions_now` is false while the neutral examples read as a smile or an
 * open mouth (`neutral_reads_as`, which names the look). An answer without the field (a server
 * before session 36) is read by `neutral_reads_as` alone. */
function smileHoldsThemBack(answer) {
  if (learnsOnlyTheRestingFace(answer) || !answer.neutral_reads_as) return false;
  return answer.learning_expressions_now !== true;
}

/** A neutral step done, whose resting face read as `label`: a model that never learns expressions
 * (`onlyBaseline`) loses none to the smile, and gets only the baseline advice. */
function restedLike(label, onlyBaseline) {
  const looked = emotionWord(label);
  return onlyBaseline
    ? `Done, but your face looked ${looked}, not relaxed: ${REST_AGAIN_FOR_THE_BASELINE}`
    : `Done, but your face looked ${looked}, not relaxed: expressions you add won't be learnt. ${REST_AND_AGAIN}`;
}

/** The longest words a step for `emotion` ends with, bar a server's refusal: those it keeps room for. */
function longestEnding(emotion) {
  if (emotion === "neutral") return restedLike("surprise", false);
  return notLearnt(`Your ${emotionWord(emotion)} face`, { neutral_reads_as: "surprise" });
}

/** Why the expression just sent was counted but not learnt (`answer.expressions` false). */
function notLearnt(what, answer) {
  if (!smileHoldsThemBack(answer)) {
    return `${what} was counted, not learnt: this model learns only your resting face.`;
  }
  // Learnt beside a smiling "resting" face, real expressions would read as neutral.
  return `${what} was counted, not learnt, because your resting face looked ${emotionWord(answer.neutral_reads_as)}. ${REST_AND_AGAIN}`;
}

/** What a step stopped short by the server left behind: a neutral step short of frames forgets
 * them (a resting face from one frame is no calibration); an expression keeps those it sent. */
function kept(emotion, accepted) {
  if (emotion === "neutral" || !accepted) return "nothing was kept.";
  return `the ${accepted === 1 ? "frame" : `${accepted} frames`} before it ${accepted === 1 ? "was" : "were"} kept.`;
}

export class Calibration {
  constructor(mount, video) {
    this.video = video;
    this.canvas = document.createElement("canvas");
    this.busy = false;
    /** Why a calibration under way stopped ("" while it runs). */
    this.stopped = "";
    /** Aborts the step under way: its wait and the frame in flight (see halt). */
    this.halted = null;
    /** The step under way stopped because the camera went (not because of a removal). */
    this.cameraWent = false;
    /** The button that started the step under way: where Cancel sends focus, as Escape leaves it. */
    this.origin = null;
    /** How often the server says this calibration was removed: every frame sends it, so that one
     * sent before a removal (here or in another tab) is dropped, not kept after it. */
    this.removed = 0;
    /** A question sent by recheck() is still unanswered. */
    this.rechecking = false;
    this.badge = element("span", { className: "badge", text: "Not calibrated", attrs: { id: "calibration-state" } });
    this.start = element("button", { className: "btn small start", text: "Calibrate to my face", attrs: { type: "button" } });
    this.remove = element("button", { className: "btn ghost small", text: "Remove calibration", attrs: { type: "button" } });
    this.prompt = element("p", { className: "fineprint prompt", attrs: { role: "status", "aria-live": "polite" } });
    // The countdown is for the eyes: in the live region it would read the instruction out once a frame.
    this.countdown = element("p", { className: "fineprint countdown", attrs: { "aria-hidden": "true" } });
    this.steps = element("p", { className: "fineprint" });
    this.steps.append("Optional, each helps: ");
    this.stepButtons = EXPRESSIONS.map(([label, emotion, instruction]) => {
      const button = element("button", { className: "btn small ghost", text: label, attrs: { type: "button" } });
      button.addEventListener("click", () => this.capture(emotion, EXPRESSION_FRAMES, instruction, button));
      this.steps.append(button, " ");
      return button;
    });
    const intro = element("p", {
      className: "fineprint",
      text: "Faces differ: a resting face can look sad or stern to the model. Calibrating teaches moodtape yours. Only what the model read is kept, with this session, never a picture.",
    });
    const bar = element("p", { className: "state-row" });
    bar.append(this.badge, this.start, this.remove);
    // Escape alone cancelled a step, and nothing said so: a touch screen, a mouse or a switch could
    // only wait it out. Cancel shows while a step runs, beside the countdown under the prompt; its
    // line is kept while the fold is open (invisible between steps), so that it moves nothing. The
    // words about Escape are its description, not read a second time in the page (aria-hidden).
    this.cancelButton = element("button", {
      className: "btn small ghost",
      text: "Cancel",
      attrs: { type: "button", "aria-describedby": "calibration-cancel-key" },
    });
    const escapeToo = element("span", {
      className: "fineprint",
      text: "Escape also cancels.",
      attrs: { id: "calibration-cancel-key", "aria-hidden": "true" },
    });
    this.cancelling = element("span", { className: "cancelling" });
    this.cancelling.append(this.cancelButton, escapeToo);
    const running = element("div", { className: "step-row" });
    running.append(this.countdown, this.cancelling);
    this.showCancel(false);
    mount.replaceChildren(bar, intro, this.steps, this.prompt, running);
    // The prompt goes with the camera's stage: a step stopped because the camera went is said here
    // instead, where a screen reader can hear it (in the page, out of the stage).
    this.elsewhere = element("p", { className: "visually-hidden", attrs: { role: "status" } });
    (mount.closest("main") || document.body).append(this.elsewhere);
    this.start.addEventListener("click", () =>
      this.capture("neutral", NEUTRAL_FRAMES, "Look at the camera with a relaxed, neutral face…", this.start),
    );
    this.cancelButton.addEventListener("click", () => this.cancelPressed());
    this.remove.addEventListener("click", () => this.forget());
    // Escape stops a step under way, from any of the calibration's controls (keyboard focus stays
    // on the one pressed; from Cancel, which goes, to the step's button): before, a step once
    // started could only be waited out (4–5 s). The fold's summary counts as one of them
    // (Shift+Tab from "Calibrate to my face" lands there): Escape there did nothing until session 35.
    const fold = mount.closest("details") || mount;
    fold.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !this.busy || !this.halted) return;
      event.preventDefault();
      this.cancel();
    });
    this.show({ calibrated: false, examples: {} });
    this.refresh();
  }

  /** Show what the server holds now: the badge and buttons must never claim a calibration it has
   * forgotten (a failed "Calibrate again", a deleted history). */
  async refresh() {
    try {
      this.show(await call("GET", "/api/calibration"));
    } catch {
      // The server is away: the badge keeps its last word, and the prompt says what failed.
    }
  }

  /** Ask again what the server holds, unless an asking sent this way is still under way: photos
   * read one after another while the calibration's store is down send one question, not one each. */
  async recheck() {
    if (this.rechecking) return;
    this.rechecking = true;
    try {
      await this.refresh();
    } finally {
      this.rechecking = false;
    }
  }

  /** Everything was deleted: a calibration under way stops (its next frame would start a new one). */
  stopAndRefresh() {
    if (this.busy) this.stopped = "Calibration stopped: everything was deleted.";
    return this.refresh();
  }

  /** The camera went (stopped, another mode, the page out of sight): a step under way stops at once,
   * its frame in flight too; the next frame would be a blank one. */
  halt(why) {
    if (!this.busy || this.stopped || !this.halted) return;
    this.stopped = why;
    this.cameraWent = true;
    this.halted.abort();
  }

  /** The person stopped the step under way (Escape): as when the camera goes, nothing half-taken
   * stays (a neutral step leaves no calibration), and the prompt says so once. */
  cancel() {
    this.halt("Calibration cancelled.");
  }

  /** Cancel pressed (a click, Enter or Space): what Escape does, then Cancel goes, and focus with it
   * to the button that started the step (where Escape from that button leaves it), not to <body>. */
  cancelPressed() {
    if (!this.busy || !this.halted) return;
    this.cancel();
    this.showCancel(false);
  }

  /** Show Cancel (a step runs) or make it invisible, keeping its room; focus on it goes back to the
   * button that started the step (Remove's rule when the steps go: the start button if that is gone). */
  showCancel(shown) {
    this.cancelling.style.visibility = shown ? "" : "hidden";
    if (shown || !this.cancelling.contains(document.activeElement)) return;
    const back = this.origin && isShown(this.origin) ? this.origin : this.start;
    back.focus();
  }

  /** Say `text` in the prompt or, when the prompt went with the camera's stage, in the page's status
   * line. The prompt still shows the words when the camera is back, but is no live region until its
   * next words (liven): shown again holding them, it would be a second live region saying what the
   * status line said (before session 38 both were live, and the words were written twice). */
  tell(text) {
    const shown = isShown(this.prompt);
    this.prompt.setAttribute("aria-live", shown ? "polite" : "off");
    this.prompt.textContent = text;
    if (!shown) this.elsewhere.textContent = text;
  }

  /** The prompt is a live region again, before anything new is written into it (see tell). */
  liven() {
    this.prompt.setAttribute("aria-live", "polite");
  }

  show(status) {
    const focused = document.activeElement;
    // Removals only ever add up: an answer that crossed a newer one must not lower the count.
    if (Number.isInteger(status.removed)) this.removed = Math.max(this.removed, status.removed);
    this.calibrated = Boolean(status.calibrated);
    this.badge.textContent = describe(status);
    this.badge.dataset.calibrated = String(Boolean(status.calibrated));
    // Like the steps, Remove keeps its place while there is nothing to remove.
    this.remove.style.visibility = Object.keys(status.examples || {}).length ? "" : "hidden";
    // Invisible, not gone, until calibrated: the row keeps its place, so that it appearing once the
    // neutral face is taken does not push the page down (146 px on a phone). Invisible also takes
    // its buttons out of the Tab order and the accessibility tree, as `hidden` did.
    this.steps.style.visibility = status.calibrated ? "" : "hidden";
    this.nameStart();
    // The calibration is gone (removed here, in another tab, or with the history): Remove and the
    // steps are hidden, and focus on one of them goes to the start button, not to <body>.
    const gone = [this.remove, ...this.stepButtons].includes(focused) && !isShown(focused);
    if (gone) this.start.focus();
  }

  /** Grab a frame and send it as an example of `emotion`; `since` is the removal count when the
   * capture began, so that a removal at any later moment (even while this frame is grabbed) drops it. */
  async sendFrame(emotion, since, signal) {
    const blob = await grabFrame(this.video, this.canvas);
    // The camera went while the frame was grabbed: it is blank, and must not be sent.
    if (signal && signal.aborted) throw Object.assign(new Error("Stopped."), { code: "stopped" });
    const url = `/api/calibration?emotion=${encodeURIComponent(emotion)}&removed=${since}`;
    const answer = await call("POST", url, { body: blob, contentType: "image/jpeg", signal });
    this.show(answer);
    return answer;
  }

  /** "Calibrate again" once calibrated. Not while a step runs: the button pressed keeps focus and
   * its name until the step ends (the name changed 1.4 s into the first step, under focus and
   * before the step was done, which a screen reader does not say; a step short of frames then
   * changed it back). It changes as the prompt says how the step went. */
  nameStart() {
    if (this.busy) return;
    this.start.textContent = this.calibrated ? "Calibrate again" : "Calibrate to my face";
  }

  /** From the key press on, keep the prompt as tall as `words` would make it (measured in an unseen
   * copy as wide): a step's last words came seconds after the press, 4 lines longer than the room
   * kept at 320 px wide, and pushed the list below down by 84 px, a layout shift no input
   * explained. The room only grows: giving it back would move the page up as much. */
  keepRoomFor(words) {
    if (!isShown(this.prompt)) return;
    const copy = element("p", { className: this.prompt.className, text: words, attrs: { "aria-hidden": "true" } });
    Object.assign(copy.style, { position: "absolute", visibility: "hidden", minHeight: "0" });
    copy.style.width = `${this.prompt.getBoundingClientRect().width}px`;
    this.prompt.after(copy);
    const needed = Math.ceil(copy.getBoundingClientRect().height);
    copy.remove();
    if (needed > parseFloat(getComputedStyle(this.prompt).minHeight)) this.prompt.style.minHeight = `${needed}px`;
  }

  setBusy(busy) {
    this.busy = busy;
    // aria-disabled, not disabled: a disabled button drops keyboard focus to <body> (issue 13).
    // capture() and forget() already ignore clicks while busy.
    for (const button of [this.start, this.remove, ...this.stepButtons]) button.setAttribute("aria-disabled", String(busy));
    this.nameStart();
  }

  /** Take `frames` frames of `emotion`; `origin`, the button pressed, gets focus back from Cancel. */
  async capture(emotion, frames, instruction, origin) {
    if (this.busy) return;
    this.liven();
    const on = await cameraOnSoon(this.video);
    if (this.busy) return; // a second press made while this one waited for the picture went first
    if (!on) {
      this.prompt.textContent = "Start the camera first.";
      return;
    }
    this.setBusy(true);
    this.keepRoomFor(longestEnding(emotion)); // now, while the room it takes is the press's doing
    this.stopped = "";
    this.cameraWent = false;
    this.elsewhere.textContent = "";
    const halted = new AbortController();
    this.halted = halted;
    this.origin = origin;
    this.showCancel(true);
    const needed = enough(frames);
    let accepted = 0;
    let crowded = 0; // frames refused because another face was about as near as the person's
    let answer = null; // the server's last word on the calibration
    let lastError = null;
    let refusedAt = 0; // the frame (from 1) whose refusal, not a face's absence, ended the step
    try {
      if (emotion === "neutral") await this.forgetQuietly(); // "again" starts from scratch
      const since = this.removed;
      this.prompt.textContent = instruction;
      await sleep(GET_READY_MS, halted.signal);
      for (let i = 0; i < frames && !this.stopped; i++) {
        if (!cameraOn(this.video)) {
          this.stopped = "Calibration stopped: the camera was turned off.";
          this.cameraWent = true;
          break;
        }
        this.countdown.textContent = `${frames - i}…`;
        try {
          answer = await this.sendFrame(emotion, since, halted.signal);
          accepted++;
        } catch (err) {
          if (err.code === "stopped") break;
          lastError = err;
          // The server dropped a frame sent before a removal: the removal wins, stop here.
          if (err.code === "calibration_removed") this.stopped ||= "Calibration stopped: it was removed meanwhile.";
          if (err.code === "several_faces") crowded++;
          // A frame without a face, or with someone as near as the person (passing behind), is
          // skipped: the step goes on with the next one.
          if (!SKIPPED_FRAMES.has(err.code)) {
            refusedAt = i + 1;
            break;
          }
        }
        await sleep(FRAME_GAP_MS, halted.signal);
      }
      // A resting face from one or two frames is no calibration: the step does not count, and a
      // neutral step (which began by forgetting) leaves none behind, nor a frame that was on its way
      // when the camera went (the server drops a frame sent before a removal). Stopped by a removal,
      // there is nothing left to forget.
      const done = accepted >= needed;
      const removedMeanwhile = this.stopped && !this.cameraWent;
      if (!done && emotion === "neutral" && !removedMeanwhile && (accepted || this.cameraWent)) await this.forgetQuietly();
      const seen = `${accepted} of ${frames} frames showed a face`;
      if (this.stopped) {
        // Removed meanwhile ("Delete everything", another tab), or the camera went: said where it
        // is heard. No frame may start a new calibration.
        this.tell(this.stopped);
        await this.refresh();
      } else if (done && emotion === "neutral" && answer.neutral_reads_as) {
        // Kept (a person may rest that way), but the server's own reading of all the neutral frames
        // together (the one that decides) says a smile or an open mouth: no expression will be learnt.
        this.prompt.textContent = restedLike(answer.neutral_reads_as, learnsOnlyTheRestingFace(answer));
      } else if (done && emotion === "neutral") {
        this.prompt.textContent = "Done: moodtape now reads your face against your own resting face.";
      } else if (done && !answer.expressions) {
        this.prompt.textContent = notLearnt(`Your ${emotionWord(emotion)} face`, answer);
      } else if (done) {
        this.prompt.textContent = `Added your ${emotionWord(emotion)} face.`;
      } else if (refusedAt) {
        // The server refused a frame (busy, away, an error): its words, not the light or the face,
        // say why; the frames never taken are not counted as frames without a face.
        this.prompt.textContent = `${lastError.message} The step stopped at frame ${refusedAt} of ${frames}: ${kept(emotion, accepted)}`;
      } else if (accepted && crowded) {
        this.prompt.textContent = `Not enough: ${accepted} of ${frames} frames showed your face alone, and ${needed} are needed. Another face was about as near as yours: try again with only your face in view.`;
      } else if (accepted) {
        this.prompt.textContent = `Not enough: ${seen}, and ${needed} are needed. Face the camera in good light and try again.`;
      } else if (crowded) {
        this.prompt.textContent = "No frame showed your face alone: another face was about as near as yours. Try again with only your face in view.";
      } else if (lastError && lastError.code === "no_face") {
        this.prompt.textContent = "No face seen. Face the camera in good light and try again.";
      } else {
        this.prompt.textContent = lastError ? lastError.message : "Nothing was added.";
      }
      // Not done: "again" forgot first, or the server may have lost it meanwhile.
      if (!done && !this.stopped) await this.refresh();
    } finally {
      this.halted = null;
      this.countdown.textContent = "";
      this.setBusy(false);
      this.showCancel(false); // the step ended by itself with focus on Cancel: focus goes back too
    }
  }

  /** A "Not my mood: I feel …" while calibrated: the face in view shows how this person looks then. */
  async learnCorrection(emotion) {
    if (!this.calibrated || this.busy || !cameraOn(this.video)) return;
    this.liven();
    this.setBusy(true);
    try {
      const answer = await this.sendFrame(emotion, this.removed);
      // A neutral example is always learnt (into the baseline), with or without expressions.
      this.prompt.textContent = answer.expressions || emotion === "neutral"
        ? `Your correction taught the calibration how you look when you feel ${emotionWord(emotion)}.`
        : notLearnt("Your correction", answer);
    } catch (err) {
      // No face (or no face clearly the person's) in view at that moment: the correction still
      // applies to the list, just not here.
      if (!SKIPPED_FRAMES.has(err.code)) this.prompt.textContent = err.message;
    } finally {
      this.setBusy(false);
    }
  }

  async forgetQuietly() {
    try {
      const { removed } = await call("DELETE", "/api/calibration");
      // Forgotten: until a new frame is accepted there is no calibration, whatever happens next.
      this.show({ calibrated: false, examples: {}, removed });
    } catch {
      // Nothing to forget, or the server is away: the next POST says so.
    }
  }

  async forget() {
    if (this.busy) return;
    this.liven();
    this.setBusy(true);
    try {
      const { removed } = await call("DELETE", "/api/calibration");
      this.show({ calibrated: false, examples: {}, removed }); // focus on Remove goes to the start
      this.prompt.textContent = "Calibration removed.";
    } catch (err) {
      this.prompt.textContent = err.message;
    } finally {
      this.setBusy(false);
    }
  }
}

const mount = document.getElementById("calibration");
if (mount) {
  const calibration = new Calibration(mount, document.getElementById("video"));
  // Listening at the document leaves the page's own "Not my mood" form code untouched; a page
  // without that form simply never triggers this.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "not-mine-form") return;
    const select = form.querySelector("select");
    if (select && select.value) calibration.learnCorrection(select.value);
  });
  // "Delete everything" in the history forgets the calibration too; history.js says when it has.
  document.addEventListener(HISTORY_DELETED, () => calibration.stopAndRefresh());
  // The server read a photo without the calibration the badge shows, or with one it does not show
  // (photo.js): it may be gone (a model that no longer fits it) or made in another tab, so the
  // badge asks again; a store that is down keeps its word.
  document.addEventListener(CALIBRATION_DIFFERS, () => calibration.recheck());
  // The camera goes: "Stop camera", another mode, or the camera lost (its picture is emptied then),
  // or the page out of sight (the camera is let go until it is back).
  const video = document.getElementById("video");
  if (video) {
    video.addEventListener("emptied", () => {
      if (!document.hidden) calibration.halt("Calibration stopped: the camera was turned off.");
    });
  }
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) calibration.halt("Calibration stopped: the page went out of sight.");
  });
}
