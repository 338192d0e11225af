// Which path reads the camera frames: on this device (ONNX Runtime Web) when the browser and the
// server allow it, else the moodtape server. The server's MOODTAPE_FRAMES sets the default (device;
// docs/page.md says why); `?frames=server` or `?frames=device` in the page's address overrides it.

import { OnDeviceAnalyzer, onDeviceConfig } from "./engine.js";

const WORDS = {
  device: "Frames are read on this device; only the mood is sent to the server.",
  loading: "Loading the on-device reader…",
  server: "Frames are read on this moodtape server, in memory.",
};

let pending = null;

function wanted(config) {
  const asked = new URLSearchParams(window.location.search).get("frames");
  return asked === "server" || asked === "device" ? asked : config.default;
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
  if (!pending) pending = load();
  return pending;
}

async function load() {
  let config;
  try {
    config = await onDeviceConfig();
  } catch (err) {
    showPath("server", `on-device reading is unavailable: ${err.message}`);
    return null;
  }
  if (wanted(config) === "server") {
    showPath("server");
    return null;
  }
  showPath("loading");
  return OnDeviceAnalyzer.create(config).then(
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
