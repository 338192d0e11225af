// The webcam, read in the browser: the server never opens a camera, it only sees the frames we post.
// FrameLoop keeps at most one request in flight and sends the next frame when the answer arrives,
// so the rate adapts to the server (fast server → up to MAX_FPS; slow one → no pile-up).

import { analyze } from "./api.js";

/** Longest side of a frame we send: enough for face detection, small enough to stay fast. */
export const MAX_SIDE = 640;
const JPEG_QUALITY = 0.7;
/** Upper bound on the send rate; the issue asks for at least 10 frames a second. */
const MAX_FPS = 15;
const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 10000;

export class CameraError extends Error {
  /** @param {"denied"|"absent"|"unsupported"|"busy"|"failed"} reason */
  constructor(reason, message) {
    super(message);
    this.reason = reason;
  }
}

/** Ask for the camera; turn the browser's DOMException names into reasons the page can explain. */
export async function openCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new CameraError(
      "unsupported",
      "This browser can't share a camera here. Browsers allow cameras only on localhost or over HTTPS.",
    );
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
      audio: false,
    });
  } catch (err) {
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      throw new CameraError(
        "denied",
        "Camera access was blocked. To allow it, use the camera icon in the address bar, then try again.",
      );
    }
    if (name === "NotFoundError" || name === "OverconstrainedError") {
      throw new CameraError("absent", "No camera was found on this device.");
    }
    if (name === "NotReadableError" || name === "AbortError") {
      throw new CameraError("busy", "The camera is in use by another program.");
    }
    throw new CameraError("failed", `The camera could not start (${name || "unknown error"}).`);
  }
}

export function closeCamera(stream) {
  if (stream) for (const track of stream.getTracks()) track.stop();
}

/** Draw `source` (video or image) into a canvas no larger than MAX_SIDE and encode it as JPEG. */
export function encodeFrame(source, canvas, width, height) {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  canvas.getContext("2d").drawImage(source, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("could not encode the frame"))), "image/jpeg", JPEG_QUALITY);
  });
}

/**
 * Post frames from a playing <video> one at a time.
 * Callbacks: onResult(result, {latencyMs, fps}), onError(ApiError, retryInMs), onRecover().
 */
export class FrameLoop {
  constructor(video, streamId, { onResult, onError, onRecover, local = null }) {
    // On-device mode: an OnDeviceAnalyzer (ondevice/engine.js) reads frames here; none are posted.
    this.local = local;
    this.video = video;
    this.streamId = streamId;
    this.onResult = onResult;
    this.onError = onError;
    this.onRecover = onRecover;
    this.canvas = document.createElement("canvas");
    this.running = false;
    this.timer = null;
    this.backoffMs = 0;
    this.failed = false;
    this.sentAt = [];
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.controller = new AbortController();
    this.schedule(0);
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    if (this.controller) this.controller.abort();
  }

  schedule(delayMs) {
    clearTimeout(this.timer);
    if (this.running) this.timer = setTimeout(() => this.tick(), delayMs);
  }

  /** Frames per second over the last two seconds of answers. */
  fps(now) {
    this.sentAt = this.sentAt.filter((t) => now - t < 2000);
    return this.sentAt.length / 2;
  }

  async post(video) {
    const blob = await encodeFrame(video, this.canvas, video.videoWidth, video.videoHeight);
    // Stopped while the frame was being encoded: it must not leave the page.
    if (!this.running) throw new DOMException("stopped", "AbortError");
    return analyze(blob, { stream: this.streamId, signal: this.controller.signal });
  }

  async tick() {
    if (!this.running) return;
    const video = this.video;
    if (document.hidden || video.readyState < 2 || !video.videoWidth) {
      this.schedule(200);
      return;
    }
    const started = performance.now();
    try {
      const result = this.local
        ? await this.local.analyzeFrame(video, video.videoWidth, video.videoHeight)
        : await this.post(video);
      if (!this.running) return;
      const now = performance.now();
      this.sentAt.push(now);
      if (this.failed) {
        this.failed = false;
        this.onRecover();
      }
      this.backoffMs = 0;
      this.onResult(result, { latencyMs: now - started, fps: this.fps(now) });
      this.schedule(Math.max(0, 1000 / MAX_FPS - (now - started)));
    } catch (err) {
      if (!this.running || (err && err.name === "AbortError")) return;
      this.failed = true;
      this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, this.backoffMs * 2));
      // A rate limit's Retry-After (429) is the wait: its window resets then, and our doubling made a
      // "Retry-After: 1" wait up to 10 s, the picture stale for 9 s for nothing. An overloaded or
      // broken server's (503, the balancer's 502/504) is a lower bound: the doubling goes on, or every
      // camera would send a frame every second or two into the outage. One frame in flight at a time.
      const asked = err.retryAfter != null ? err.retryAfter * 1000 : null;
      const wait =
        asked !== null && err.status === 429 ? Math.max(MIN_BACKOFF_MS, asked) : Math.max(asked ?? 0, this.backoffMs);
      this.onError(err, wait);
      this.schedule(wait);
    }
  }
}
