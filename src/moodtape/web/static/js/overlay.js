// Face boxes drawn over a photo or the live video. Boxes are placed in percent of the analysed
// image, so they follow the media element when the layout resizes: no measuring, no redraw.

import { writeText } from "./text.js";
import { emotionWord } from "./words.js";

/** The largest face: the one whose probabilities we show as bars. */
export function mainFace(faces) {
  let best = null;
  for (const face of faces) {
    if (!best || face.box[2] * face.box[3] > best.box[2] * best.box[3]) best = face;
  }
  return best;
}

export function percent(p) {
  return `${Math.round(p * 100)} %`;
}

/** What a box says: the emotion and how sure, or "not sure" instead of a jittery guess. */
export function faceLabel(face) {
  return face.uncertain ? "not sure" : `${emotionWord(face.emotion)} ${percent(face.confidence)}`;
}

/** What each box was last given, in the words it was given (the browser rewrites "33.3333…%" in
 * its own way, so the style read back is no fit to compare with). */
const placed = new WeakMap();

/** Set a box's inline style only where it changes: the live camera redraws every frame. */
function place(box, geometry) {
  const before = placed.get(box) || {};
  for (const [name, value] of Object.entries(geometry)) {
    if (before[name] !== value) box.style.setProperty(name, value);
  }
  placed.set(box, geometry);
}

/**
 * Show one box per face in `layer`. The boxes already there are moved and relabelled in place, not
 * made again: with the camera this runs every frame, and a new box each time cut short the glide
 * from one place to the next (its CSS transition) and rewrote the overlay 15 times a second.
 * @param {HTMLElement} layer  absolutely positioned over the media, same size
 * @param {Array} faces  from /api/analyze
 * @param {{width: number, height: number}} image  size of the analysed image (box coordinates)
 * @param {boolean} mirrored  the media is shown mirrored (selfie view), so flip x
 */
export function drawFaces(layer, faces, image, mirrored = false) {
  const main = mainFace(faces);
  while (layer.children.length > faces.length) layer.lastElementChild.remove();
  faces.forEach((face, index) => {
    let box = layer.children[index];
    if (!box) {
      box = document.createElement("div");
      const label = document.createElement("span");
      label.className = "face-label";
      box.append(label);
      layer.append(box);
    }
    const [x, y, w, h] = face.box;
    const left = mirrored ? image.width - x - w : x;
    let className = `face-box ${face.uncertain ? "uncertain" : `emo-${face.emotion}`}`;
    if (face === main && faces.length > 1) className += " main";
    if (face.held) className += " held";
    if (box.className !== className) box.className = className;
    showHeld(box, Boolean(face.held));
    place(box, boxGeometry(left, y, w, h, image));
    const label = box.firstElementChild;
    const text = faceLabel(face);
    writeText(label, text);
  });
}

/** Where a box goes: its size in percent of the layer's, its place as a translation in units of the
 * layer's own size (cqw and cqh: the layer, .overlay, is a size container; the box stands at its top
 * left corner). A translation, not left and top: a box moved with every camera frame by left and
 * top was a layout shift each time (13 in 20 s with three faces, once their glide was gone:
 * style.css says why it went); a translation moves the box without laying out anything around it.
 * Not a translation in percent of the box itself: a box is never drawn narrower than its borders
 * (6 px, 8 px for the main face), so a small face (a 40-px face in a 4032-px group photo shown
 * 556 px wide, a face cut by the frame's edge) was placed tens to thousands of px off. */
export function boxGeometry(left, top, width, height, image) {
  const share = (value, whole, unit) => `${((100 * value) / whole).toFixed(3)}${unit}`;
  return {
    width: share(width, image.width, "%"),
    height: share(height, image.height, "%"),
    transform: `translate(${share(left, image.width, "cqw")}, ${share(top, image.height, "cqh")})`,
  };
}

/** A held face (the main person not found in this frame; their track's last box, see the API's
 * Face.held) is drawn dashed and faint: it marks where they were, not a face the camera sees now.
 * Set inline, as `place` sets the geometry, so that the box's look needs no stylesheet rule. */
function showHeld(box, held) {
  const style = held ? { "border-style": "dashed", opacity: "0.55" } : { "border-style": "", opacity: "" };
  for (const [name, value] of Object.entries(style)) {
    if (box.style.getPropertyValue(name) !== value) box.style.setProperty(name, value);
  }
}

/** Where the middle of a face's box is on screen, in the analysed image's units: a mirrored view
 * (the camera's selfie view) shows the image's right on the left. The middle, not the left edge: a
 * small face in front of a big one's left half was called "right" by its edge. */
function screenMiddle(face, image, mirrored) {
  const [x, , w] = face.box;
  const middle = x + w / 2;
  return mirrored ? image.width - middle : middle;
}

/** Whether two faces, `a` left of `b` by their middles, stand clearly side by side: their middles
 * at least half the narrower box apart. Closer, they are one above the other (or one in front of
 * the other), and "left" and "right" would claim an order the picture does not show. */
function sideBySide(a, b, image, mirrored) {
  const apart = screenMiddle(b, image, mirrored) - screenMiddle(a, image, mirrored);
  return apart >= Math.min(a.box[2], b.box[2]) / 2;
}

/** The words for each place, left to right as seen, for as many faces as have a short word each.
 * With more faces the order alone is said ("left to right: …"): "second from the left" is longer
 * than what it tells. */
const PLACES = { 2: ["Left", "right"], 3: ["Left", "middle", "right"] };

/**
 * One sentence for screen readers and tests: how many faces and what each shows, left to right as
 * the screen shows them. Two or three faces side by side are said each with its place ("2 faces.
 * Left: happy 90 %; right: not sure."), four or more in order ("4 faces, left to right: …"); when
 * two neighbours stand one above the other no order is claimed ("2 faces: happy 90 %, sad 61 %.").
 * The server's order (its detection order) was said before, with no place: a listener could not
 * tell which face was which. A held face (`held`: a stream's main person missed in this frame) is
 * left out: "2 faces" was said with one person in view.
 * @param {Array} faces  from /api/analyze
 * @param {{width: number}} image  the analysed image's size (box coordinates); without it, the
 *   server's order and no places
 * @param {boolean} mirrored  shown mirrored, as the camera is (see drawFaces)
 */
export function describeFaces(faces, image = null, mirrored = false) {
  // A held face is not one the picture shows now (see showHeld): it is neither counted nor said.
  faces = faces.filter((face) => !face.held);
  if (!faces.length) return "No face found.";
  const count = `${faces.length} ${faces.length === 1 ? "face" : "faces"}`;
  const seen = image ? [...faces].sort((a, b) => screenMiddle(a, image, mirrored) - screenMiddle(b, image, mirrored)) : faces;
  const ordered = image && seen.length > 1 && seen.every((face, i) => i === 0 || sideBySide(seen[i - 1], face, image, mirrored));
  const labels = seen.map(faceLabel);
  if (!ordered) return `${count}: ${labels.join(", ")}.`;
  const places = PLACES[seen.length];
  if (!places) return `${count}, left to right: ${labels.join(", ")}.`;
  return `${count}. ${labels.map((label, i) => `${places[i]}: ${label}`).join("; ")}.`;
}

/**
 * Bars for all seven probabilities of one face (the largest).
 * @param {HTMLElement} list  a <ul> whose children are created once and then updated
 */
export function drawBars(list, emotions, face) {
  if (list.children.length !== emotions.length) {
    list.replaceChildren(
      ...emotions.map((emotion) => {
        const item = document.createElement("li");
        item.className = `bar emo-${emotion}`;
        item.dataset.emotion = emotion;
        const name = document.createElement("span");
        name.className = "bar-name";
        name.textContent = emotionWord(emotion);
        const track = document.createElement("span");
        track.className = "bar-track";
        const fill = document.createElement("span");
        fill.className = "bar-fill";
        track.append(fill);
        const value = document.createElement("span");
        value.className = "bar-value";
        item.append(name, track, value);
        return item;
      }),
    );
  }
  for (const item of list.children) {
    const p = face ? face.probabilities[item.dataset.emotion] || 0 : 0;
    // Below half a percent the bar stays empty, so "0 %" never shows a stray dot. The fill is scaled
    // (style.css), not sized: a width animated every frame meant a layout every frame. Written only
    // when it changes, as the figure is: this runs once a camera frame.
    const fill = item.querySelector(".bar-fill");
    const scale = p < 0.005 ? "0" : p.toFixed(3);
    if (fill.style.getPropertyValue("--p") !== scale) fill.style.setProperty("--p", scale);
    const value = item.querySelector(".bar-value");
    const figure = face ? percent(p) : "–";
    writeText(value, figure);
    item.classList.toggle("top", Boolean(face) && !face.uncertain && face.emotion === item.dataset.emotion);
  }
  list.classList.toggle("uncertain", Boolean(face && face.uncertain));
}

/**
 * Size the media box to the image's aspect ratio, no taller than 60 % of the viewport, so that
 * the overlay (inset 0 in the same box) lines up with the picture exactly. Nor taller than
 * `--picture-room` where the box has one (the room app.js made for a camera at its press): a
 * picture of another shape than expected is narrower, centred, rather than moving what is below.
 */
export function fitMedia(wrap, width, height) {
  if (!width || !height) return;
  const ratio = width / height;
  wrap.style.aspectRatio = `${width} / ${height}`;
  wrap.style.width = `min(100%, calc(min(60vh, var(--picture-room, 60vh)) * ${ratio.toFixed(4)}))`;
}
