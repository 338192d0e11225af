// Camera mode: start, pause and stop the webcam, post frames, draw what comes back.
// The camera belongs to this mode: stop() ends every track and the frame loop, and the page calls
// it whenever the person leaves camera mode. What answers mean for the rest of the page (bars,
// mood, list) is left to the callbacks.

import { FaceGap, redrawInterval } from "./calm.js";
import { CameraError, FrameLoop, closeCamera, openCamera } from "./camera.js";
import { drawFaces, fitMedia } from "./overlay.js";
import { writeText } from "./text.js";
import { localAnalyzer } from "./ondevice/mode.js";
import { say } from "./say.js";

/** The "frames/s · ms" figures change at most this often: at 15 frames a second they changed 15
 * times a second (they are now out of the accessibility tree too: `#camera-rate` is aria-hidden). */
const STATS_INTERVAL_MS = 1000;

/** What a second failure of the same kind says first, so that "Try the camera again" is heard to
 * have been tried (the same words written again would say nothing). */
const STILL = {
  denied: "Still blocked.",
  absent: "Still no camera.",
  busy: "Still in use.",
  unsupported: "Still not possible here.",
  lost: "Still no camera.",
  failed: "Still not working.",
};

function randomStreamId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Size the picture's box from the camera's track settings (known as soon as the stream is, unlike
 * the video's size); the video's own size corrects it when it comes (a phone held upright). */
function sizeFromTrack(wrap, media) {
  const [track] = media.getVideoTracks();
  const settings = track && track.getSettings ? track.getSettings() : {};
  fitMedia(wrap, settings.width, settings.height);
}

/** Start the (muted) video; autoplay of a muted video is allowed, and if it fails anyway the frame
 * loop simply waits for frames. */
async function playQuietly(video) {
  try {
    await video.play();
  } catch {
    // Nothing to do: the frame loop waits until the video has frames.
  }
}

export class LiveCamera {
  /**
   * @param els {intro, problem, problemText, stage, video, overlay, note, rate, news, pause}
   *   rate: the frame rate's figures (aria-hidden); news: words about the frames instead
   * @param callbacks {onFrame(result, now, shown), onError(err, waitMs), onRecover(), onStage(), onStarted(),
   *   onStopped(), onLosing(), onLost()}
   *   onFrame: `shown` is false for a frame without a face while the last face is a moment old
   *     (FaceGap): the words about the face stay as they were
   *   onStage: the preview and its controls are on screen (the reader may still be loading)
   *   onLosing: the camera is about to go by itself (its stage still on screen)
   *   onLost: the camera ended while in use, or could not be had again when the page came back; the
   *     problem is shown
   */
  constructor(els, callbacks) {
    this.els = els;
    this.callbacks = callbacks;
    // One id per page load: the server smooths this page's frames together, and only them.
    this.streamId = randomStreamId();
    this.media = null;
    this.loop = null;
    this.paused = false;
    this.drawnAt = -Infinity;
    /** When the frames last wrote the stats line (other news there makes the next frame write). */
    this.statsAt = -Infinity;
    /** The reason of the camera problem on screen (CameraError.reason), or null. */
    this.problemReason = null;
    // A start() that is still waiting for permission when stop() runs must not turn the camera on.
    this.generation = 0;
    this.faceGap = new FaceGap();
    /** The browser is still asking for the camera (a permission prompt): stop() cancels the start. */
    this.asking = false;
    /** The page is out of sight: the camera is let go (its light goes off) until it comes back. */
    this.suspended = false;
    document.addEventListener("visibilitychange", () => (document.hidden ? this.suspend() : this.resume()));
    // A phone turned mid-stream turns the frames (640×480 to 480×640): the box follows the frames'
    // new size. Sized only on loadedmetadata, it kept the old proportions and squeezed the picture.
    const { video } = els;
    video.addEventListener("resize", () => fitMedia(video.parentElement, video.videoWidth, video.videoHeight));
  }

  get running() {
    return Boolean(this.media);
  }

  /** Running, or being started: either way camera mode holds the camera (or is about to). */
  get active() {
    return this.running || this.asking;
  }

  showProblem(text) {
    const { intro, problem, problemText, stage } = this.els;
    // An alert: the same words again (a retry that failed the same way) are cleared and written back,
    // so that they are heard again (say.js). Words left in a box out of sight (a camera lost before
    // and found again) are not on screen: they go at once, so that the new ones are written now. Else
    // the box showed blank for 150 ms with focus on it, then grew: its buttons moved 72 px down
    // with no key pressed (a layout shift of 0.004 at 1280 × 900).
    if (problem.hidden) problemText.textContent = "";
    say(problemText, text);
    problem.hidden = false;
    intro.hidden = true;
    stage.hidden = true;
  }

  /** The camera could not be had (denied, missing, busy, gone): say why, and what else works. A
   * retry that fails the same way says so first ("Still blocked."). */
  showCameraProblem(err) {
    const reason = err instanceof CameraError ? err.reason : "failed";
    const again = !this.els.problem.hidden && this.problemReason === reason;
    this.problemReason = reason;
    const why = err instanceof CameraError ? err.message : String(err);
    this.showProblem(`${again ? STILL[reason] + " " : ""}${why} You can still use a photo, or pick your mood by hand.`);
  }

  /** The camera went away while in use (its track ended: unplugged, switched off, permission taken
   * back) or could not be had again: camera mode ends, the problem is shown and said, and the page
   * puts focus on it (onLost). */
  lose(err) {
    // Before anything goes: the page keeps the places the camera held (onLosing).
    this.callbacks.onLosing();
    this.stop();
    this.showCameraProblem(err);
    // Focus may have been on a control that went with the camera, in the stage or not (the list's
    // "Stop", the offer): the page decides where it goes.
    this.callbacks.onLost();
  }

  /** Hear the end of `media`'s tracks: a track that ends by itself (the browser's doing, not ours:
   * track.stop() fires no "ended") means the camera is gone. Frames of a gone camera are black. */
  watchTracks(media) {
    for (const track of media.getVideoTracks()) {
      track.addEventListener(
        "ended",
        () => {
          if (media !== this.media || this.suspended) return; // let go of by the page itself
          this.lose(
            new CameraError(
              "lost",
              "The camera stopped: it was unplugged, switched off, or its permission was taken back. Check it, then try again.",
            ),
          );
        },
        { once: true },
      );
    }
  }

  /**
   * @returns true when the camera runs, false when it could not start (the problem is shown), null
   *   when stop() (camera mode left) or a newer start() took over meanwhile
   */
  async start() {
    const { intro, problem, stage, video } = this.els;
    const mine = ++this.generation;
    this.asking = true;
    // On-device mode (ondevice/): the reader loads while the browser asks for the camera.
    const local = localAnalyzer();
    let media;
    try {
      media = await openCamera();
    } catch (err) {
      if (mine !== this.generation) return null;
      this.asking = false;
      this.showCameraProblem(err);
      return false;
    }
    if (mine !== this.generation) {
      // Stopped while the browser was still asking (camera mode left): the stream it hands over
      // late is not wanted, and its light goes off at once.
      closeCamera(media);
      return null;
    }
    this.asking = false;
    this.media = media;
    this.problemReason = null;
    this.faceGap.reset();
    this.watchTracks(media);
    // The picture's box takes its size from the track at once, before the stage shows: sized only
    // once the video's first frame had come, it grew from the video's default 150 px after focus
    // was on "Stop camera", and the button (the whole stage bar) moved 267 px down under it.
    sizeFromTrack(video.parentElement, media);
    video.addEventListener("loadedmetadata", () => fitMedia(video.parentElement, video.videoWidth, video.videoHeight), {
      once: true,
    });
    video.srcObject = media;
    intro.hidden = true;
    problem.hidden = true;
    stage.hidden = false;
    this.callbacks.onStage();
    await playQuietly(video);
    const reader = await local;
    if (mine !== this.generation) return null;
    if (reader) {
      reader.resetStream();
      await reader.refreshProfile(true);
    }
    this.loop = new FrameLoop(video, this.streamId, {
      local: reader,
      onResult: (result, timing) => this.frame(result, timing),
      onError: (err, waitMs) => this.callbacks.onError(err, waitMs),
      onRecover: () => this.callbacks.onRecover(),
    });
    this.setPaused(this.paused); // paused already if the switch was pressed while the reader loaded
    this.callbacks.onStarted();
    // Hidden while the browser was still asking for the camera: let go of it until shown.
    if (document.hidden) this.suspend();
    return true;
  }

  /** Pause: no frames are sent and nothing on screen moves; the camera stays on for a quick resume. */
  setPaused(paused) {
    this.paused = paused;
    const { pause, note } = this.els;
    pause.setAttribute("aria-checked", String(paused));
    if (!this.loop) return;
    if (paused) {
      this.loop.stop();
      note.hidden = true;
      this.writeStats("Paused: no frames sent.");
    } else {
      this.writeStats("");
      this.loop.start();
    }
  }

  /** The page was hidden: end the tracks and the frames, but keep camera mode as it is on screen. */
  suspend() {
    if (!this.media || this.suspended) return;
    this.suspended = true;
    if (this.loop) this.loop.stop();
    closeCamera(this.media);
    this.els.video.srcObject = null;
  }

  /** The page is back in sight: take the camera again and carry on (still paused, if it was). */
  async resume() {
    if (!this.suspended) return;
    this.suspended = false;
    const mine = this.generation;
    let media;
    try {
      media = await openCamera();
    } catch (err) {
      if (mine !== this.generation) return;
      this.lose(err);
      return;
    }
    // Stopped meanwhile, or hidden again: the new stream goes straight back.
    if (mine !== this.generation || !this.media || this.suspended) {
      closeCamera(media);
      return;
    }
    this.media = media;
    this.watchTracks(media);
    const { video } = this.els;
    video.srcObject = media;
    await playQuietly(video);
    if (this.loop && !this.paused) this.loop.start();
  }

  /** No answers come (the server is gone): nothing on the picture may look live meanwhile. */
  showStalled(text) {
    const { overlay, note } = this.els;
    overlay.replaceChildren();
    note.hidden = true;
    this.writeStats(text);
  }

  /** News for the stats line other than the frame rate (paused, stalled, a refusal): written at once,
   * in words a screen reader can find, and the next frame's rate replaces it at once too. The rate's
   * figures are for the eyes only (aria-hidden): they change every second and mean little to a
   * listener; the news is in the accessibility tree but not a live region (the switch, the banner or
   * nothing needs saying: a refusal the camera retries by itself). */
  writeStats(text) {
    const { rate, news } = this.els;
    if (text) writeText(rate, "");
    writeText(news, text);
    this.statsAt = -Infinity;
  }

  /** End the tracks and the frame loop; safe to call when nothing runs. */
  stop() {
    this.suspended = false;
    this.asking = false;
    this.generation += 1;
    const wasRunning = this.running;
    if (this.loop) this.loop.stop();
    this.loop = null;
    closeCamera(this.media);
    this.media = null;
    const { intro, problem, stage, video, overlay, note } = this.els;
    video.srcObject = null;
    overlay.replaceChildren();
    note.hidden = true;
    this.writeStats("");
    stage.hidden = true;
    // A retry cancelled (camera mode left while the browser asked) leaves the problem on screen, as
    // leaving without a retry does: the intro is not shown under it (both showed on coming back).
    intro.hidden = !problem.hidden;
    this.paused = false;
    this.els.pause.setAttribute("aria-checked", "false");
    if (wasRunning) this.callbacks.onStopped();
  }

  frame(result, { latencyMs, fps }) {
    if (this.paused) return;
    const { overlay, note, rate, news } = this.els;
    const now = performance.now();
    const shown = this.faceGap.shows(result.faces.length > 0, now);
    // With prefers-reduced-motion, boxes move once a second instead of with every frame.
    // Nothing is written that says so already: the boxes are moved, not made again (a new box each
    // frame cut its glide short), and the note is written once.
    if (now - this.drawnAt >= redrawInterval()) {
      this.drawnAt = now;
      drawFaces(overlay, result.faces, result.image, true);
      // The boxes follow the picture; the note waits until the face has been gone a moment (FaceGap).
      const noFace = shown && result.faces.length === 0;
      if (note.hidden === noFace) note.hidden = !noFace;
      const words = "No face in view. Face the camera, in good light.";
      writeText(note, words);
    }
    if (now - this.statsAt >= STATS_INTERVAL_MS) {
      this.statsAt = now;
      const line = `${fps.toFixed(1)} frames/s · ${Math.round(latencyMs)} ms`;
      writeText(news, "");
      writeText(rate, line);
    }
    this.callbacks.onFrame(result, now, shown);
  }
}
