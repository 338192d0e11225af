// Which path reads the camera frames: on this device (ONNX Runtime Web) when the browser and the
// server allow it, else the moodtape server. The server's MOODTAPE_FRAMES sets the default; `auto`
// (the default) uses the server path when the page comes from this machine (loopback: the frames
// stay on the device either way, and the server path starts about 10x faster and downloads 15 MB
// less, see docs/page.md) and the device path otherwise. `?frames=server` or `?frames=device` in
// the page's address overrides it.

import { OnDeviceAnalyzer, onDeviceConfig } from "./engine.js";

const WORDS = {
  device: "Frames are read on this device; only the mood is sent to the server.",
  loading: "Loading the on-device reader…",
  server: "Frames are read on this moodtape server, in memory.",
};

// Host names of this machine: a server reached through them runs where the camera is.
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

let pending = null;

function wanted(config) {
  const asked = new URLSearchParams(window.location.search).get("frames");
  if (asked === "server" || asked === "device") return asked;
  if (config.default !== "auto") return config.default;
  return LOOPBACK.has(window.location.hostname) ? "server" : "device";
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
