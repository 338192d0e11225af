// On-device analysis: ONNX Runtime Web (single-threaded WebAssembly) runs YuNet and the emotion
// model on frames that never leave the browser. The result has the shape of POST /api/analyze's
// answer, so the rest of the page does not know which path produced it.

import { cropFaces, applyProfile, groupMood, postprocess, preprocess, readProfile } from "./emotion.js";
import { grayFromRGBA } from "./imaging.js";
import { MainPerson, heldFirst } from "./mainperson.js";
import { FaceSmoother } from "./smoother.js";
import { detectFaces } from "./yunet.js";

/** Longest side of a frame we analyse: the same as the frames the server path posts (camera.js). */
const MAX_SIDE = 640;
/** Seconds between re-reads of the session's calibration profile while the camera runs. */
const PROFILE_REFRESH_S = 10;
/** The vendored runtime, beside the versioned js/ folder this module is served from. */
const RUNTIME_URL = new URL("../../vendor/ort/", import.meta.url).href;
/** The runtime's WebAssembly, which its worker fetches for itself (see {@link checkRuntimeServed}). */
const RUNTIME_WASM = "ort-wasm-simd-threaded.wasm";

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

/** The first bytes of every WebAssembly module: "\0asm". */
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
/** Answers that say the file is not there; any other failure is left to the runtime to meet. */
const NOT_THERE = new Set([404, 410]);

function runtimeMissing(why) {
  const missing = new Error(`${RUNTIME_WASM} ${why}`);
  missing.runtimeMissing = true;
  return missing;
}

/**
 * Up to `count` bytes from the start of `reply`'s body, then the rest is cancelled (a server that
 * ignores the Range header sends the whole 11 MB otherwise); null when the body cannot be read.
 */
async function firstBytes(reply, count) {
  if (!reply.body) return null;
  const reader = reply.body.getReader();
  const bytes = new Uint8Array(count);
  let have = 0;
  try {
    while (have < count) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, count - have);
      bytes.set(value.subarray(0, take), have);
      have += take;
    }
    return bytes.subarray(0, have);
  } catch {
    return null;
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * Throw a plain error when the runtime's WebAssembly is not served: answered 404 or 410, or
 * answered with something that is not WebAssembly (a proxy's HTML page, with 200). The runtime's
 * worker fetches the file itself and, on a bad answer, aborts with an error thrown inside that
 * worker, which no code of ours can catch: the console showed it as uncaught ("Aborted(CompileError:
 * WebAssembly.instantiate(): expected magic word …)"). The check reads the file's first 4 bytes (a
 * Range request; a server that ignores it is cut off after them). Any other answer (405 or 403 from
 * a proxy that refuses ranges, a network error) proves nothing: the runtime is left to try.
 */
async function checkRuntimeServed() {
  let reply;
  try {
    const firstFour = { headers: { Range: "bytes=0-3" }, credentials: "same-origin" };
    reply = await fetch(`${RUNTIME_URL}${RUNTIME_WASM}`, firstFour);
  } catch {
    return;
  }
  if (NOT_THERE.has(reply.status)) throw runtimeMissing(`answered ${reply.status}`);
  if (reply.status !== 200 && reply.status !== 206) {
    reply.body?.cancel().catch(() => {});
    return;
  }
  const head = await firstBytes(reply, WASM_MAGIC.length);
  if (head === null) return;
  if (!WASM_MAGIC.every((byte, i) => head[i] === byte)) throw runtimeMissing("is not WebAssembly");
}

/** The server's settings for this mode (GET /api/ondevice). */
export function onDeviceConfig() {
  return getJson("/api/ondevice");
}

export class OnDeviceAnalyzer {
  /** Load the runtime and both models; throws when anything is missing (the caller falls back). */
  static async create(config = null) {
    if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
    const started = performance.now();
    config = config || (await onDeviceConfig());
    if (!config.available) throw new Error("the ONNX Runtime Web files are not installed on this server");
    await checkRuntimeServed();
    const ort = await import(`${RUNTIME_URL}ort.wasm.min.mjs`);
    // Threads need cross-origin isolation (COOP/COEP), which the music and video embeds would break.
    ort.env.wasm.numThreads = 1;
    // Both models run in the runtime's own worker: on the page's thread a frame's inference held
    // the person's keys for up to 0.1-0.4 s (a worker from our origin: the CSP's 'self' allows it).
    ort.env.wasm.proxy = true;
    ort.env.wasm.wasmPaths = RUNTIME_URL;
    const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
    const [emotion, yunet] = await Promise.all([
      ort.InferenceSession.create(config.models.emotion, options),
      ort.InferenceSession.create(config.models.yunet, options),
    ]);
    const analyzer = new OnDeviceAnalyzer(ort, config, emotion, yunet);
    analyzer.startupMs = performance.now() - started;
    return analyzer;
  }

  constructor(ort, config, emotion, yunet) {
    Object.assign(this, { ort, config, emotion, yunet });
    this.canvas = document.createElement("canvas");
    this.profile = null;
    this.profileAt = -Infinity;
    this.resetStream();
  }

  /** Release both models in the runtime (a reader that came too late is not used); the runtime's worker stays. */
  release() {
    return Promise.all([this.emotion.release(), this.yunet.release()]).catch(() => {});
  }

  /** Forget face tracks and the main person (a new camera session starts fresh, as a new stream id
   *  does on the server). */
  resetStream() {
    const { smoothing, classifier, mood } = this.config;
    this.smoother = new FaceSmoother(smoothing, classifier.uncertain_below, mood.labels);
    // A config from a server before the main person (a deploy under way, a cached answer) has no
    // main_person: every face is then weighed as before, rather than the camera failing.
    this.mainPerson = this.config.main_person ? new MainPerson(this.config.main_person) : null;
    this.mainSize = null; // the size of the last frame that found the main person
  }

  /** Re-read this session's calibration profile (small JSON; no image data goes out). */
  async refreshProfile(force = false) {
    const now = performance.now() / 1000;
    if (!force && now - this.profileAt < PROFILE_REFRESH_S) return;
    this.profileAt = now;
    try {
      const { profile } = await getJson("/api/ondevice/profile");
      this.profile = profile && profile.model_id === this.config.classifier.model_id ? readProfile(profile, this.config.mood.labels) : null;
    } catch {
      // Keep the last profile: a missed refresh only delays a new calibration by one interval.
    }
  }

  /** Gray pixels of a video or image, scaled to at most MAX_SIDE like the frames the server gets. */
  grayOf(source, width, height) {
    const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    const w = Math.max(1, Math.round(width * scale));
    const h = Math.max(1, Math.round(height * scale));
    this.canvas.width = w;
    this.canvas.height = h;
    const context = this.canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(source, 0, 0, w, h);
    return grayFromRGBA(context.getImageData(0, 0, w, h).data, w, h);
  }

  /** YuNet boxes (FER-framed, largest first) in a gray image. */
  async detect(gray) {
    const run = (data, padW, padH) =>
      this.yunet.run({ [this.yunet.inputNames[0]]: new this.ort.Tensor("float32", data, [1, 3, padH, padW]) });
    return detectFaces(gray, this.config.detector, run);
  }

  /** Per box: {box, probs (FER2013 order), uncertain}, through the calibration profile when there is one. */
  async classify(gray, boxes) {
    if (!boxes.length) return [];
    const cfg = this.config.classifier;
    const batch = preprocess(cropFaces(gray, boxes, this.config.framing), cfg);
    const dims = cfg.input.layout === "nchw" ? [boxes.length, 1, cfg.input.height, cfg.input.width] : [boxes.length, cfg.input.height, cfg.input.width, 1];
    const outputs = await this.emotion.run({ [this.emotion.inputNames[0]]: new this.ort.Tensor("float32", batch, dims) });
    const rows = postprocess(outputs[this.emotion.outputNames[0]].data, boxes.length, cfg);
    const embedding = outputs.embedding;
    return rows.map((row, i) => {
      let probs = row;
      if (this.profile) {
        const size = embedding ? embedding.dims[1] : 0;
        probs = applyProfile(this.profile, row, embedding ? Array.from(embedding.data.slice(i * size, (i + 1) * size)) : null);
      }
      return { box: boxes[i], probs, uncertain: Math.max(...probs) < cfg.uncertain_below };
    });
  }

  /** The smoothed faces with the main person first: found in this frame, or held from their track
   *  when the frame missed them but found others tracked since before (as StreamAnalyzer.process),
   *  and only in frames of the size that last found them. */
  orderByMainPerson(smoothed, gray, t) {
    const ordered = this.mainPerson.order(smoothed, gray.width, gray.height, this.smoother.liveIds(), t);
    const main = this.mainPerson.trackId;
    const size = `${gray.width}x${gray.height}`;
    if (ordered.some((face) => face.trackId === main)) this.mainSize = size;
    // Last found in frames of another size (another camera, a new resolution): the held box is in
    // those frames' pixels and would be drawn where no one is (as StreamAnalyzer._held_first).
    if (this.mainSize !== null && this.mainSize !== size) return ordered;
    return heldFirst(ordered, main, (id, beside) => this.smoother.heldFace(id, beside));
  }

  /** One frame of a live stream: detect, classify, smooth, main person first; the same JSON shape
   *  as /api/analyze with a stream, whose mood is the first face's alone (a bystander's is not in it). */
  async analyzeFrame(source, width, height) {
    const started = performance.now();
    this.refreshProfile();
    const gray = this.grayOf(source, width, height);
    await yieldToKeys();
    const boxes = await this.detect(gray);
    await yieldToKeys();
    const faces = await this.classify(gray, boxes);
    const t = started / 1000;
    const smoothed = this.smoother.update(faces, t);
    const ordered = this.mainPerson ? this.orderByMainPerson(smoothed, gray, t) : smoothed;
    const labels = this.config.mood.labels;
    const uncertainBelow = this.config.classifier.uncertain_below;
    const shown = ordered.map((face) => faceJson(face, labels, Math.max(...face.probs) < uncertainBelow));
    return {
      faces: shown,
      image: { width: gray.width, height: gray.height },
      mood: groupMood(this.mainPerson ? shown.slice(0, 1) : shown, this.config.mood),
      stream: null,
      calibrated: this.profile !== null,
      elapsed_ms: Math.round((performance.now() - started) * 10) / 10,
      on_device: true,
    };
  }
}

/** Let the page answer a key or click between a frame's stages: the models run in the runtime's
 *  worker, but reading the frame and preparing each model's input are the page's own work, and on
 *  a busy machine one frame's stages in a row held a key for 60-140 ms. */
function yieldToKeys() {
  if (globalThis.scheduler && typeof globalThis.scheduler.yield === "function") return globalThis.scheduler.yield();
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function faceJson(face, labels, uncertain) {
  const top = face.probs.indexOf(Math.max(...face.probs));
  const round4 = (v) => Math.round(v * 1e4) / 1e4;
  return {
    box: [face.box.x, face.box.y, face.box.w, face.box.h],
    emotion: labels[top],
    confidence: round4(face.probs[top]),
    uncertain,
    probabilities: Object.fromEntries(labels.map((label, k) => [label, round4(face.probs[k])])),
    track_id: face.trackId,
    // Only on a held face (not found in this frame; its track's last box): as Face.to_dict.
    ...(face.held ? { held: true } : {}),
  };
}
