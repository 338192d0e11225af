// Camera mode: start and stop the webcam, post frames, draw what comes back.
// What the answers mean for the rest of the page (bars, mood, list) is left to the callbacks.

import { CameraError, FrameLoop, closeCamera, openCamera } from "./camera.js";
import { drawFaces, fitMedia } from "./overlay.js";

function randomStreamId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class LiveCamera {
  /**
   * @param els {intro, problem, problemText, stage, video, overlay, note, stats}
   * @param callbacks {onFrame(result), onError(err, waitMs), onRecover(), onStopped()}
   */
  constructor(els, callbacks) {
    this.els = els;
    this.callbacks = callbacks;
    // One id per page load: the server smooths this page's frames together, and only them.
    this.streamId = randomStreamId();
    this.media = null;
    this.loop = null;
  }

  get running() {
    return Boolean(this.loop);
  }

  showProblem(text) {
    const { intro, problem, problemText, stage } = this.els;
    problemText.textContent = text;
    problem.hidden = false;
    intro.hidden = true;
    stage.hidden = true;
  }

  async start() {
    const { intro, problem, stage, video } = this.els;
    try {
      this.media = await openCamera();
    } catch (err) {
      const hint = " You can still use a photo, or pick your mood by hand.";
      this.showProblem((err instanceof CameraError ? err.message : String(err)) + hint);
      return false;
    }
    video.addEventListener("loadedmetadata", () => fitMedia(video.parentElement, video.videoWidth, video.videoHeight), {
      once: true,
    });
    video.srcObject = this.media;
    intro.hidden = true;
    problem.hidden = true;
    stage.hidden = false;
    try {
      await video.play();
    } catch {
      // Autoplay of a muted video is allowed; if it fails anyway, the loop waits for frames.
    }
    this.loop = new FrameLoop(video, this.streamId, {
      onResult: (result, timing) => this.frame(result, timing),
      onError: (err, waitMs) => this.callbacks.onError(err, waitMs),
      onRecover: () => this.callbacks.onRecover(),
    });
    this.loop.start();
    return true;
  }

  stop() {
    if (this.loop) this.loop.stop();
    this.loop = null;
    closeCamera(this.media);
    this.media = null;
    const { intro, stage, video, overlay, note, stats } = this.els;
    video.srcObject = null;
    overlay.replaceChildren();
    note.hidden = true;
    stats.textContent = "";
    stage.hidden = true;
    intro.hidden = false;
    this.callbacks.onStopped();
  }

  frame(result, { latencyMs, fps }) {
    const { overlay, note, stats } = this.els;
    drawFaces(overlay, result.faces, result.image, true);
    note.hidden = result.faces.length > 0;
    note.textContent = "No face in view. Face the camera, in good light.";
    stats.textContent = `${fps.toFixed(1)} frames/s · ${Math.round(latencyMs)} ms`;
    this.callbacks.onFrame(result);
  }
}
