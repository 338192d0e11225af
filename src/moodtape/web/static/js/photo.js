// Photo mode: a file from the picker, a drop or the clipboard, shown with its face boxes.

import { analyze } from "./api.js";
import { describeFaces, drawFaces, fitMedia } from "./overlay.js";

/** The first image-like file in a DataTransfer (drop or paste), or null. */
function firstFile(transfer) {
  if (!transfer) return null;
  for (const file of transfer.files || []) return file;
  for (const item of transfer.items || []) {
    if (item.kind === "file") return item.getAsFile();
  }
  return null;
}

/** Said when the server's word on the calibration for a photo is not the badge's (calibrate.js
 * listens: its badge asks the server again). */
const CALIBRATION_DIFFERS = "moodtape:calibration-differs";

/**
 * What the server says of the calibration for this photo (its answer's `calibrated`): with it, or,
 * when the page shows one (the camera panel's badge), without it. A photo is read without the
 * calibration while the store that keeps it is down, or once it no longer fits the server's model;
 * the page said nothing and its badge still said "Calibrated". Nothing is said to someone who never
 * calibrated. Where the server and the badge differ either way (the calibration gone, or made in
 * another tab since the badge last asked), the badge asks the server again.
 */
function calibrationWords(result) {
  const badge = document.getElementById("calibration-state");
  const badgeSays = badge ? badge.dataset.calibrated === "true" : null;
  if (typeof result.calibrated === "boolean" && badgeSays !== null && result.calibrated !== badgeSays) {
    document.dispatchEvent(new CustomEvent(CALIBRATION_DIFFERS));
  }
  if (result.calibrated === true) return " Read with your calibration.";
  // Why is not known here (a store down for a moment, or a calibration made with another model):
  // the words say only what happened; the badge, asked again, says whether it still counts.
  return result.calibrated === false && badgeSays ? " Read without your calibration." : "";
}

/** Times a large photo is sent again while the server is busy with other large ones. */
const BUSY_RETRIES = 5;

/**
 * `analyze(file)`, sent again after the server's Retry-After while it answers "busy" (it takes a
 * few large pictures at a time), with the wait shown in `message`. `abandoned()` stops the retries
 * when the person has picked another photo meanwhile.
 */
async function analyzeWhenFree(file, abandoned, message, signal) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await analyze(file, { signal });
    } catch (err) {
      if (err.code !== "busy" || attempt >= BUSY_RETRIES || abandoned()) throw err;
      const seconds = Math.max(1, Math.ceil(err.retryAfter ?? 2));
      message.textContent = `The server is busy with other large photos; trying again in ${seconds} s…`;
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      if (abandoned()) throw err;
    }
  }
}

/**
 * Wire the photo panel. `onAnalysed(result)` gets the server's answer; `onFailed(error)` an ApiError.
 * `onPasted()` lets the page switch to the photo tab when a picture is pasted anywhere.
 * `chooser` is a real button that opens the (hidden) file input, so it can take focus and show it.
 */
export function setupPhoto({ input, chooser, dropzone, stage, img, overlay, message, onAnalysed, onFailed, onPasted }) {
  let objectUrl = null;
  let generation = 0;
  /** The photo being read: {name, controller}; null when none is. */
  let pending = null;

  async function handle(file) {
    if (!file) return;
    const mine = ++generation;
    if (pending) pending.controller.abort();
    const name = file.name || "the pasted image";
    pending = { name, controller: new AbortController() };
    const { signal } = pending.controller;
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(file);
    overlay.replaceChildren();
    message.textContent = `Analysing ${name}…`;
    message.classList.remove("error");
    try {
      const result = await analyzeWhenFree(file, () => mine !== generation, message, signal);
      if (mine !== generation) return;
      pending = null;
      // A picture the server reads but this browser cannot show (a HEIC outside Safari): an empty
      // frame with the faces boxed and a word why, not a broken-image icon under the boxes.
      img.parentElement.classList.remove("no-preview");
      img.onerror = () => img.parentElement.classList.add("no-preview");
      img.src = objectUrl;
      stage.hidden = false;
      fitMedia(img.parentElement, result.image.width, result.image.height);
      drawFaces(overlay, result.faces, result.image, false);
      message.classList.toggle("error", !result.faces.length);
      message.textContent = result.faces.length
        ? describeFaces(result.faces, result.image) + calibrationWords(result)
        : "No face found in this photo. Try one where a face looks toward the camera, or pick a mood by hand.";
      onAnalysed(result);
    } catch (err) {
      if (mine !== generation) return;
      pending = null;
      stage.hidden = true;
      message.classList.add("error");
      message.textContent = err.message;
      onFailed(err);
    }
  }

  chooser.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    handle(input.files[0]);
    input.value = "";
  });
  for (const name of ["dragenter", "dragover"]) {
    dropzone.addEventListener(name, (event) => {
      event.preventDefault();
      dropzone.classList.add("dragging");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    dropzone.addEventListener(name, () => dropzone.classList.remove("dragging"));
  }
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    handle(firstFile(event.dataTransfer));
  });
  document.addEventListener("paste", (event) => {
    // Behind a modal dialog (History) the page is inert: a paste there must not stop the camera and
    // swap the list the person cannot see. The dialog keeps the paste, which does nothing in it.
    if (document.querySelector(":modal")) return;
    const file = firstFile(event.clipboardData);
    if (!file) return;
    event.preventDefault();
    onPasted();
    handle(file);
  });
  /**
   * Photo mode was left: a photo still being read (a slow upload, or waiting out a busy server's
   * Retry-After) is dropped, so that its list does not replace the one of the mode the person went
   * to (the camera's, a mood picked by hand) seconds later. Its words wait in the panel.
   * @returns whether one was dropped
   */
  function abandon() {
    if (!pending) return false;
    generation++;
    pending.controller.abort();
    stage.hidden = true;
    overlay.replaceChildren();
    message.classList.add("error");
    message.textContent = `${pending.name} was not analysed: you left photo mode first. Choose it again to use it.`;
    pending = null;
    return true;
  }

  return { handle, abandon };
}
