// The emotion model's two ends, as in vision/classifier.py: crops → input tensor, and model
// outputs → probabilities in FER2013 order (temperature softmax, label reorder), plus the
// session's calibration profile (vision/calibration.py) and the group mood (recommender/mood.py).

import { cropSquare, resizeForModel, stretchContrast } from "./imaging.js";

/** Float32 batch (n, 1, H, W) or (n, H, W, 1) from gray crops; pixel·scale + offset, after the
 *  contrast stretch when the model's preset asks for it. */
export function preprocess(crops, cfg) {
  const { height, width } = cfg.input;
  const size = height * width;
  const batch = new Float32Array(crops.length * size);
  crops.forEach((crop, n) => {
    const small = resizeForModel(crop, width, height);
    const levels = cfg.stretch ? stretchContrast(small.data, cfg.stretch) : small.data;
    // One channel: NCHW and NHWC share the same memory order.
    for (let i = 0; i < size; i += 1) batch[n * size + i] = Math.fround(levels[i] * cfg.scale + cfg.offset);
  });
  return batch;
}

/** Rows of model outputs → probabilities in FER2013 order. */
export function postprocess(outputs, n, cfg) {
  const k = cfg.order.length;
  const rows = [];
  for (let r = 0; r < n; r += 1) {
    const row = Array.from(outputs.slice(r * k, (r + 1) * k));
    let probs;
    if (cfg.output === "probabilities") {
      const total = row.reduce((a, b) => a + b, 0);
      probs = row.map((v) => v / total);
    } else {
      probs = softmax(row.map((v) => v / cfg.temperature));
    }
    rows.push(cfg.order.map((i) => probs[i]));
  }
  return rows;
}

export function softmax(values) {
  const top = Math.max(...values);
  const exp = values.map((v) => Math.exp(v - top));
  const total = exp.reduce((a, b) => a + b, 0);
  return exp.map((v) => v / total);
}

/** Crops for faces: upright FER2013 squares (roll alignment is server-only, see docs/page.md). */
export function cropFaces(gray, boxes, framing) {
  return boxes.map((box) => cropSquare(gray, box, framing));
}

// ---- calibration (vision/calibration.py, apply_profile) ----------------------------------------

function unpack(packed) {
  const raw = Uint8Array.from(atob(packed.int8), (c) => c.charCodeAt(0));
  return Array.from(new Int8Array(raw.buffer), (v) => v * packed.scale);
}

function unit(vector) {
  const norm = Math.max(1e-12, Math.hypot(...vector));
  return vector.map((v) => v / norm);
}

/** The profile JSON of GET /api/ondevice/profile, unpacked once. */
export function readProfile(json, labels) {
  if (!json) return null;
  const prototypes = Object.entries(json.prototypes || {}).map(([label, packed]) => [labels.indexOf(label), unpack(packed)]);
  return {
    baseline: json.baseline,
    weight: json.weight,
    center: json.center ? unpack(json.center) : [],
    prototypes: prototypes.length >= 2 ? prototypes : [],
  };
}

/** Calibrated probabilities for one face (its generic row and, when the model has one, its embedding). */
export function applyProfile(profile, probs, embedding) {
  const scores = probs.map((p, i) => Math.log(Math.min(1, Math.max(1e-7, p))) + profile.baseline[i]);
  if (profile.prototypes.length && embedding) {
    const centred = unit(unit(embedding).map((v, i) => v - profile.center[i]));
    const sims = profile.prototypes.map(([, proto]) => proto.reduce((s, v, i) => s + v * centred[i], 0));
    const mean = sims.reduce((a, b) => a + b, 0) / sims.length;
    profile.prototypes.forEach(([column], j) => {
      scores[column] += profile.weight * (sims[j] - mean);
    });
  }
  return softmax(scores);
}

// ---- mood (recommender/mood.py, group_mood) ----------------------------------------------------

/** One mood for the faces: box area × confidence weights (÷4 when uncertain), as the server does. */
export function groupMood(faces, moodCfg) {
  if (!faces.length) return null;
  const labels = moodCfg.labels;
  let weights = faces.map((f) => f.box[2] * f.box[3] * f.confidence * (f.uncertain ? moodCfg.uncertain_face_weight : 1));
  let total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) [weights, total] = [faces.map(() => 1), faces.length];
  const combined = labels.map((label) => faces.reduce((s, f, i) => s + weights[i] * f.probabilities[label], 0) / total);
  const sum = combined.reduce((a, b) => a + b, 0);
  const clip = (v) => Math.min(1, Math.max(-1, v));
  const valence = clip(labels.reduce((s, l, i) => s + combined[i] * moodCfg.points[l][0], 0) / sum);
  const arousal = clip(labels.reduce((s, l, i) => s + combined[i] * moodCfg.points[l][1], 0) / sum);
  const emotion = labels[combined.indexOf(Math.max(...combined))];
  const round4 = (v) => Math.round(v * 1e4) / 1e4;
  return { valence: round4(valence), arousal: round4(arousal), emotion, source: faces.length > 1 ? "group" : "face" };
}
