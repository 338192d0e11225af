// Pixels as the server sees them: gray conversion, the FER2013 crop and the resize rule, ported
// from Pillow and OpenCV so the browser feeds the emotion model the same numbers (vision/framing.py,
// vision/classifier.py). A gray image is {width, height, data: Uint8Array}.

/** RGBA → gray with Pillow's rule (ITU-R 601-2 luma in 16-bit fixed point), as decode_image does. */
export function grayFromRGBA(rgba, width, height) {
  const data = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < data.length; i += 1, j += 4) {
    data[i] = (rgba[j] * 19595 + rgba[j + 1] * 38470 + rgba[j + 2] * 7471 + 0x8000) >> 16;
  }
  return { width, height, data };
}

/** Python's round() (half to even), so boxes land on the same pixels as on the server. */
export function pyRound(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Framing.crop: a square around `box` ({x, y, w, h}), grown by `scale`, moved down by `shift`
 *  box heights; pixels outside the image mirror it about its edge (framing.mirrored). */
export function cropSquare(gray, box, { scale = 1, shift = 0 } = {}) {
  const side = Math.max(1, pyRound(Math.max(box.w, box.h) * scale));
  const cx = box.x + box.w / 2;
  const cy = box.y + box.h / 2 + shift * box.h;
  const left = pyRound(cx - side / 2);
  const top = pyRound(cy - side / 2);
  const out = new Uint8Array(side * side);
  const { width, height, data } = gray;
  for (let y = 0; y < side; y += 1) {
    const sy = mirrored(top + y, height) * width;
    for (let x = 0; x < side; x += 1) out[y * side + x] = data[sy + mirrored(left + x, width)];
  }
  return { width: side, height: side, data: out };
}

/** framing.mirrored: index `i` into `length` pixels, mirrored about the ends (BORDER_REFLECT_101). */
export function mirrored(i, length) {
  if (length === 1) return 0;
  const period = 2 * (length - 1);
  const folded = ((i % period) + period) % period;
  return folded < length ? folded : period - folded;
}

/** OpenCV's rule in classifier.py: INTER_AREA when shrinking, INTER_LINEAR when enlarging. */
export function resizeForModel(gray, width, height) {
  return gray.height > height ? resizeArea(gray, width, height) : resizeLinear(gray, width, height);
}

/** cv2.INTER_AREA: each output pixel is the area-weighted mean of the input pixels it covers. */
export function resizeArea(gray, width, height) {
  const xw = areaWeights(gray.width, width);
  const yw = areaWeights(gray.height, height);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      let sum = 0;
      for (const [sy, wy] of yw[y]) {
        const row = sy * gray.width;
        for (const [sx, wx] of xw[x]) sum += gray.data[row + sx] * wy * wx;
      }
      out[y * width + x] = Math.min(255, Math.max(0, Math.round(sum)));
    }
  }
  return { width, height, data: out };
}

/** For each output index: [source index, weight] pairs covering [i·s, (i+1)·s), weights summing to 1. */
function areaWeights(from, to) {
  const s = from / to;
  const table = [];
  for (let i = 0; i < to; i += 1) {
    const a = i * s;
    const b = Math.min(from, (i + 1) * s);
    const pairs = [];
    for (let k = Math.floor(a); k < Math.ceil(b - 1e-9); k += 1) {
      const w = Math.min(b, k + 1) - Math.max(a, k);
      if (w > 1e-9) pairs.push([k, w / s]);
    }
    table.push(pairs);
  }
  return table;
}

/** cv2.INTER_LINEAR with pixel centres aligned ((d + 0.5)·s − 0.5), edges clamped. */
export function resizeLinear(gray, width, height) {
  const xs = linearTaps(gray.width, width);
  const ys = linearTaps(gray.height, height);
  const out = new Uint8Array(width * height);
  const src = gray.data;
  for (let y = 0; y < height; y += 1) {
    const [y0, y1, fy] = ys[y];
    for (let x = 0; x < width; x += 1) {
      const [x0, x1, fx] = xs[x];
      const top = src[y0 * gray.width + x0] * (1 - fx) + src[y0 * gray.width + x1] * fx;
      const bottom = src[y1 * gray.width + x0] * (1 - fx) + src[y1 * gray.width + x1] * fx;
      out[y * width + x] = Math.min(255, Math.max(0, Math.round(top * (1 - fy) + bottom * fy)));
    }
  }
  return { width, height, data: out };
}

function linearTaps(from, to) {
  const s = from / to;
  const taps = [];
  for (let d = 0; d < to; d += 1) {
    let f = (d + 0.5) * s - 0.5;
    let i = Math.floor(f);
    f -= i;
    if (i < 0) [i, f] = [0, 0];
    if (i >= from - 1) [i, f] = [from - 1, 0];
    taps.push([i, Math.min(from - 1, i + 1), f]);
  }
  return taps;
}

// ---- exposure (vision/exposure.py) -------------------------------------------------------------

/** The face's `low` and `high` percentiles become 0 and 255 (numpy's linear percentile); a face
 *  spanning fewer than `min_span` levels is left as it is. Returns the levels as numbers. */
export function stretchContrast(levels, { low, high, min_span: minSpan }) {
  const counts = new Uint32Array(256);
  for (const v of levels) counts[v] += 1;
  const first = percentile(counts, levels.length, low);
  const last = percentile(counts, levels.length, high);
  const span = last - first;
  if (!(span >= minSpan)) return Array.from(levels);
  const gain = 255 / span;
  return Array.from(levels, (v) => Math.min(255, Math.max(0, (v - first) * gain)));
}

/** np.percentile(values, q) for 0–255 integer values given as a histogram of `n` values. */
function percentile(counts, n, q) {
  const position = (q / 100) * (n - 1);
  const below = Math.floor(position);
  const a = orderStatistic(counts, below);
  const b = orderStatistic(counts, Math.min(n - 1, below + 1));
  return a + (b - a) * (position - below);
}

/** The k-th smallest value (0-based) of the histogram. */
function orderStatistic(counts, k) {
  let seen = 0;
  for (let level = 0; level < counts.length; level += 1) {
    seen += counts[level];
    if (seen > k) return level;
  }
  return counts.length - 1;
}
