// Face boxes drawn over a photo or the live video. Boxes are placed in percent of the analysed
// image, so they follow the media element when the layout resizes: no measuring, no redraw.

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

/**
 * Replace the boxes in `layer` with one per face.
 * @param {HTMLElement} layer  absolutely positioned over the media, same size
 * @param {Array} faces  from /api/analyze
 * @param {{width: number, height: number}} image  size of the analysed image (box coordinates)
 * @param {boolean} mirrored  the media is shown mirrored (selfie view), so flip x
 */
export function drawFaces(layer, faces, image, mirrored = false) {
  const boxes = faces.map((face) => {
    const [x, y, w, h] = face.box;
    const left = mirrored ? image.width - x - w : x;
    const box = document.createElement("div");
    box.className = "face-box";
    box.classList.add(face.uncertain ? "uncertain" : `emo-${face.emotion}`);
    if (face === mainFace(faces) && faces.length > 1) box.classList.add("main");
    box.style.left = `${(100 * left) / image.width}%`;
    box.style.top = `${(100 * y) / image.height}%`;
    box.style.width = `${(100 * w) / image.width}%`;
    box.style.height = `${(100 * h) / image.height}%`;
    const label = document.createElement("span");
    label.className = "face-label";
    label.textContent = faceLabel(face);
    box.append(label);
    return box;
  });
  layer.replaceChildren(...boxes);
}

/** One sentence for screen readers and tests: how many faces and what each shows. */
export function describeFaces(faces) {
  if (!faces.length) return "No face found.";
  const parts = faces.map(faceLabel);
  return `${faces.length} ${faces.length === 1 ? "face" : "faces"}: ${parts.join(", ")}.`;
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
    if (value.textContent !== figure) value.textContent = figure;
    item.classList.toggle("top", Boolean(face) && !face.uncertain && face.emotion === item.dataset.emotion);
  }
  list.classList.toggle("uncertain", Boolean(face && face.uncertain));
}

/**
 * Size the media box to the image's aspect ratio, no taller than 60 % of the viewport, so that
 * the overlay (inset 0 in the same box) lines up with the picture exactly.
 */
export function fitMedia(wrap, width, height) {
  if (!width || !height) return;
  const ratio = width / height;
  wrap.style.aspectRatio = `${width} / ${height}`;
  wrap.style.width = `min(100%, calc(60vh * ${ratio.toFixed(4)}))`;
}
