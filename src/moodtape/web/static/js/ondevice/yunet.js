// YuNet face detection in the browser: OpenCV's FaceDetectorYN pre- and post-processing ported to
// JavaScript (pad to a multiple of 32, decode the three strides, NMS), then moodtape's own steps
// from vision/yunet.py: search a shrunk copy (or an enlarged one of a small photo, and a second,
// small copy of a large photo with no sure face), turn the five landmarks into a FER2013-framed
// square, keep the sure faces (or else the unsure ones that fill the photo), drop small faces and
// merge overlaps. Boxes are {x, y, w, h} in input pixels.

import { pyRound, resizeLinear } from "./imaging.js";

const STRIDES = [8, 16, 32];

/** The detector's input: the gray image as 3 equal BGR planes (0–255), zero-padded to 32 px. */
export function yunetInput(gray) {
  const padW = (Math.floor((gray.width - 1) / 32) + 1) * 32;
  const padH = (Math.floor((gray.height - 1) / 32) + 1) * 32;
  const plane = padW * padH;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < gray.height; y += 1) {
    for (let x = 0; x < gray.width; x += 1) {
      const v = gray.data[y * gray.width + x];
      const i = y * padW + x;
      data[i] = v;
      data[plane + i] = v;
      data[2 * plane + i] = v;
    }
  }
  return { data, padW, padH };
}

/** Faces {box, points[5], score} from the model's outputs (OpenCV's postProcess, then NMS). */
export function decode(outputs, padW, padH, { score_threshold: minScore, nms_threshold: nms }) {
  const faces = [];
  for (const stride of STRIDES) {
    const cols = padW / stride;
    const rows = padH / stride;
    const cls = outputs[`cls_${stride}`].data;
    const obj = outputs[`obj_${stride}`].data;
    const bbox = outputs[`bbox_${stride}`].data;
    const kps = outputs[`kps_${stride}`].data;
    for (let r = 0; r < rows; r += 1) {
      for (let c = 0; c < cols; c += 1) {
        const i = r * cols + c;
        const clamp = (v) => Math.min(1, Math.max(0, v));
        const score = Math.sqrt(clamp(cls[i]) * clamp(obj[i]));
        if (score < minScore) continue;
        const cx = (c + bbox[i * 4]) * stride;
        const cy = (r + bbox[i * 4 + 1]) * stride;
        const w = Math.exp(bbox[i * 4 + 2]) * stride;
        const h = Math.exp(bbox[i * 4 + 3]) * stride;
        const points = [];
        for (let n = 0; n < 5; n += 1) points.push([(kps[i * 10 + 2 * n] + c) * stride, (kps[i * 10 + 2 * n + 1] + r) * stride]);
        faces.push({ box: { x: cx - w / 2, y: cy - h / 2, w, h }, points, score });
      }
    }
  }
  faces.sort((a, b) => b.score - a.score);
  const kept = [];
  for (const face of faces) if (kept.every((k) => iou(k.box, face.box) <= nms)) kept.push(face);
  return kept;
}

export function iou(a, b) {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const union = a.w * a.h + b.w * b.h - ix * iy;
  return union ? (ix * iy) / union : 0;
}

/** Landmarks.fer_centre_and_side: the FER2013 square's centre and side from the eyes and mouth. */
function ferSquare(points, cfg) {
  const [[rx, ry], [lx, ly], , [mrx, mry], [mlx, mly]] = points;
  const ex = (rx + lx) / 2;
  const ey = (ry + ly) / 2;
  const mx = (mrx + mlx) / 2;
  const my = (mry + mly) / 2;
  return {
    cx: ex + cfg.centre_below_eyes * (mx - ex),
    cy: ey + cfg.centre_below_eyes * (my - ey),
    side: cfg.side_per_eye_mouth * Math.hypot(mx - ex, my - ey),
  };
}

/** Landmarks.fer_box: the upright FER2013 square from the eyes and mouth, clipped to the image. */
export function ferBox(points, width, height, cfg) {
  const { cx, cy, side } = ferSquare(points, cfg);
  const left = Math.max(0, pyRound(cx - side / 2));
  const top = Math.max(0, pyRound(cy - side / 2));
  const right = Math.min(width, pyRound(cx + side / 2));
  const bottom = Math.min(height, pyRound(cy + side / 2));
  return { x: left, y: top, w: Math.max(1, right - left), h: Math.max(1, bottom - top) };
}

/** YuNetSettings.smallest_face: min_face, or less in a small photo. */
function smallestFace(width, height, cfg) {
  if (!cfg.photos) return cfg.min_face;
  return Math.max(10, Math.min(cfg.min_face, pyRound(cfg.photo_face_share * Math.min(width, height))));
}

/** YuNetSettings.detect_scale: shrink (< 1) or enlarge (> 1) for the detection copy. */
function detectScale(width, height, cfg) {
  let scale = Math.min(1, cfg.min_face_detect / smallestFace(width, height, cfg));
  if (cfg.photos) scale = Math.max(scale, cfg.min_detect_side / Math.max(1, Math.min(width, height)));
  return Math.min(scale, cfg.max_detect_side / Math.max(1, width, height));
}

/** YuNetSettings.second_scale: the second, small copy of a large photo, or null. */
function secondScale(width, height, cfg) {
  const whole = cfg.whole_photo_side / Math.max(1, Math.min(width, height));
  return cfg.photos && whole < (detectScale(width, height, cfg) * 2) / 3 ? whole : null;
}

/** yunet._at_least: the faces with at least `score` whose FER-framed side is at least `side`. */
function atLeast(faces, score, side, cfg) {
  return faces.filter((f) => f.score >= score && ferSquare(f.points, cfg).side >= side);
}

/** YuNetDetector._sure: the faces of at least the smallest size that reach score_threshold. */
function sureFaces(faces, width, height, cfg) {
  return atLeast(faces, cfg.score_threshold, smallestFace(width, height, cfg), cfg);
}

/** YuNetDetector._filling: the unsure faces that fill the photo. */
function fillingFaces(faces, width, height, cfg) {
  if (!cfg.photos) return [];
  return atLeast(faces, cfg.photo_face_threshold, cfg.photo_face_share * Math.min(width, height), cfg);
}

function overlapRatio(a, b) {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const smaller = Math.min(a.w * a.h, b.w * b.h);
  return smaller ? (ix * iy) / smaller : 0;
}

/** YuNetDetector.detect in the browser: FER-framed boxes, largest first. `run(input)` runs the model. */
export async function detectFaces(gray, cfg, run) {
  const { width, height } = gray;
  if (!width || !height) return [];
  let found = await search(gray, detectScale(width, height, cfg), cfg, run);
  let sure = sureFaces(found, width, height, cfg);
  const second = secondScale(width, height, cfg);
  if (!sure.length && second !== null) {
    const more = await search(gray, second, cfg, run);
    sure = sureFaces(more, width, height, cfg);
    found = found.concat(more);
  }
  const chosen = sure.length ? sure : fillingFaces(found, width, height, cfg);
  const smallest = smallestFace(width, height, cfg);
  const big = chosen
    .map((face) => ({ box: ferBox(face.points, width, height, cfg), score: face.score }))
    .filter((f) => Math.max(f.box.w, f.box.h) >= smallest)
    .sort((a, b) => b.score - a.score);
  const kept = [];
  for (const face of big) if (kept.every((k) => overlapRatio(face.box, k) <= cfg.overlap)) kept.push(face.box);
  return kept.sort((a, b) => b.w * b.h - a.w * a.h);
}

/** YuNetDetector._search: every face in a copy resized by `scale`, as {points, score} in input pixels. */
async function search(gray, scale, cfg, run) {
  const smallW = Math.max(1, pyRound(gray.width * scale));
  const smallH = Math.max(1, pyRound(gray.height * scale));
  const smallest = smallestFace(gray.width, gray.height, cfg);
  if (Math.min(smallW, smallH) < 10 || Math.max(smallW, smallH) < smallest * scale) return [];
  const small = scale === 1 ? gray : resizeLinear(gray, smallW, smallH);
  const { data, padW, padH } = yunetInput(small);
  const outputs = await run(data, padW, padH);
  // As YuNetDetector._net: with the photo rules, decode down to the lower threshold and choose later.
  const threshold = cfg.photos ? Math.min(cfg.score_threshold, cfg.photo_face_threshold) : cfg.score_threshold;
  const lowest = { ...cfg, score_threshold: threshold };
  return decode(outputs, padW, padH, lowest).map((face) => ({
    points: face.points.map(([x, y]) => [x / scale, y / scale]),
    score: face.score,
  }));
}
