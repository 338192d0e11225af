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

/** The path asked for in the page's address (`?frames=server` or `?frames=device`), else null. */
function askedPath() {
  const asked = new URLSearchParams(window.location.search).get("frames");
  return asked === "server" || asked === "device" ? asked : null;
}

function wanted(config) {
  const asked = askedPath();
  if (asked) return asked;
  if (config.default !== "auto") return config.default;
  return LOOPBACK.has(window.location.hostname) ? "server" : "device";
}

/** The device path was asked for by name (the address, or the server's MOODTAPE_FRAMES=device), not
 * chosen by `auto`: a reader slow to start is then waited for, and frames are not sent to the
 * server meanwhile. */
function deviceForced(config) {
  return askedPath() === "device" || config.default === "device";
}

/** Say on the page which path reads the frames. The note is a status region (index.html): a screen
 * reader hears that the frames went to the server. Unchanged words are not written again, so that
 * nothing is announced twice. */
export function showPath(path, reason = "") {
  const note = document.getElementById("camera-mode");
  if (!note) return;
  // "… in memory. The on-device reader could not start in this browser." (a sentence of its own).
  const words = reason ? `${WORDS[path]} ${reason[0].toUpperCase()}${reason.slice(1)}.` : WORDS[path];
  if (note.textContent !== words) note.textContent = words;
  note.dataset.path = path;
}

/** How long the on-device reader may take to start before the server reads the frames instead (its
 * runtime and models are 15 MB: a minute at 2 Mbit/s), and how long GET /api/ondevice may take (a
 * request to it that never came back left the frames unread in either mode). Not restarted while
 * bytes still arrive: ONNX Runtime Web fetches its WebAssembly and the models itself and tells no
 * progress. An object, so that a test can shorten the waits. */
export const readerStart = { deadlineMs: 60_000, configMs: 10_000 };

/**
 * The on-device analyzer, or null for the server path. Loaded once per page, on the first camera
 * start; a failure (no WebAssembly, runtime not installed, model refused, the runtime's worker not
 * starting) falls back to the server, and the note under the camera says why in plain words.
 */
export function localAnalyzer() {
  if (!pending) pending = load();
  return pending;
}

/** Why the on-device reader is not used, in words for the person at the camera: the runtime's own
 * message ("no available backend found. ERR: [wasm] Error: Aborted(CompileError: …). Build with
 * -sASSERTIONS for more info.") was shown before; it goes to the console, for whoever debugs. */
function plainReason(config, err) {
  if (err) console.warn("moodtape: the on-device reader could not start:", err);
  if (typeof WebAssembly !== "object") return "this browser cannot run the on-device reader";
  const notInstalled = (config && !config.available) || (err && err.runtimeMissing);
  if (notInstalled) return "the on-device reader is not installed on this server";
  return "the on-device reader could not start in this browser";
}

/** What `starting` came to ({value} or {error}), or {late: true} after `ms`; `done` is the outcome
 * still to come when late. */
function within(starting, ms) {
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ late: true }), ms);
  });
  const done = starting.then(
    (value) => ({ value }),
    (error) => ({ error }),
  );
  return Promise.race([done, late]).then((outcome) => {
    clearTimeout(timer);
    return { ...outcome, done };
  });
}

/** The server's settings, or null when it did not give them in time (a 5xx, a request that hangs). */
async function settings() {
  const outcome = await within(onDeviceConfig(), readerStart.configMs);
  if (outcome.value) return outcome.value;
  console.warn("moodtape: GET /api/ondevice:", outcome.late ? `no answer in ${readerStart.configMs} ms` : outcome.error);
  return null;
}

/** Without the server's settings the server reads the frames. Nothing more is said where the server
 * path was wanted anyway (asked for, or the shipped `auto` on this machine); else the words are
 * about the server, not the browser. */
function withoutSettings() {
  const expected = askedPath() || (LOOPBACK.has(window.location.hostname) ? "server" : null);
  showPath("server", expected === "server" ? "" : "this moodtape server did not say whether frames can be read on this device");
  return null;
}

async function load() {
  const config = await settings();
  if (!config) return withoutSettings();
  if (wanted(config) === "server") {
    showPath("server");
    return null;
  }
  showPath("loading");
  let outcome = await within(OnDeviceAnalyzer.create(config), readerStart.deadlineMs);
  if (outcome.late && deviceForced(config)) {
    // Asked for by name: wait on, and say so; the frames stay unread rather than go to the server.
    showPath("loading", "it is taking a while; frames are not sent to the server meanwhile");
    outcome = await outcome.done;
  } else if (outcome.late) {
    // A reader that comes later is let go: its models are released (the runtime's worker stays).
    outcome.done.then(({ value }) => value && value.release());
  }
  if (outcome.value) {
    showPath("device");
    return outcome.value;
  }
  const seconds = Math.round(readerStart.deadlineMs / 1000);
  showPath("server", outcome.late ? `the on-device reader did not load in ${seconds} s` : plainReason(config, outcome.error));
  return null;
}
