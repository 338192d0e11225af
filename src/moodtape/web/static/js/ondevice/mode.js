// Which path reads the camera frames: on this device (ONNX Runtime Web) when the browser and the
// server allow it, else the moodtape server. `?frames=server` or `?frames=device` in the page's
// address overrides the default (for comparing the two; docs/page.md has the measurements).

import { OnDeviceAnalyzer } from "./engine.js";

/** The default when nothing says otherwise: see docs/page.md, "On-device mode", for why. */
export const DEFAULT_PATH = "device";

const WORDS = {
  device: "Frames are read on this device; only the mood is sent to the server.",
  loading: "Loading the on-device reader…",
  server: "Frames are read on this moodtape server, in memory.",
};

let pending = null;

function wanted() {
  const asked = new URLSearchParams(window.location.search).get("frames");
  return asked === "server" || asked === "device" ? asked : DEFAULT_PATH;
}

/** Say on the page which path reads the frames. */
export function showPath(path, reason = "") {
  const note = document.getElementById("camera-mode");
  if (!note) return;
  note.textContent = WORDS[path] + (reason ? ` (${reason})` : "");
  note.dataset.path = path;
}

/**
 * The on-device analyzer, or null for the server path. Loaded once per page, on the first camera
 * start; a failure (no WebAssembly, runtime not installed, model refused) falls back to the server.
 */
export function localAnalyzer() {
  if (wanted() === "server") {
    showPath("server");
    return Promise.resolve(null);
  }
  if (!pending) {
    showPath("loading");
    pending = OnDeviceAnalyzer.create().then(
      (analyzer) => {
        showPath("device");
        return analyzer;
      },
      (err) => {
        showPath("server", `on-device reading is unavailable: ${err.message}`);
        return null;
      },
    );
  }
  return pending;
}
