// The page's entry point: wires the modes (camera, photo, by hand) to the mood, the pictures and
// the list. Each concern lives in its own module; this file only holds the page's state.

import * as api from "./api.js";
import { setupHistory } from "./history.js";
import { LiveCamera } from "./live.js";
import { DEFAULT_POINTS, MoodPlane } from "./moodplane.js";
import { describeFaces, drawBars, mainFace } from "./overlay.js";
import { setupPhoto } from "./photo.js";
import { describeSources, renderResults } from "./results.js";
import { MoodSettler } from "./settle.js";
import { Timeline } from "./timeline.js";

const $ = (id) => document.getElementById(id);
const FALLBACK_EMOTIONS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"];

const state = {
  emotions: FALLBACK_EMOTIONS,
  points: DEFAULT_POINTS,
  /** Where the list's mood came from: "camera", "photo", "manual" or null (no list yet). */
  source: null,
  /** The mood the list is made for: {valence, arousal, emotion, emotionOnly?}. */
  applied: null,
  strategy: "",
  kind: "tracks",
  listController: null,
  lastSummary: "",
  /** The list on screen (with its list_id) and the parameters it was asked with. */
  list: null,
  listParams: null,
};

// ---- small UI helpers -------------------------------------------------------------------------

function banner(text) {
  const el = $("banner");
  el.textContent = text || "";
  el.hidden = !text;
}

function reportError(err) {
  if (err && err.unreachable) banner(err.message);
}

function setPressed(group, attr, value) {
  for (const button of group.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset[attr] === value));
  }
}

function moodWords(mood) {
  return `${mood.emotion} · valence ${mood.valence.toFixed(2)} · arousal ${mood.arousal.toFixed(2)}`;
}

// ---- tabs ----------------------------------------------------------------------------------------

const TABS = ["camera", "photo", "manual"];

function selectTab(name, { focus = false } = {}) {
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    const active = tab === name;
    button.setAttribute("aria-selected", String(active));
    button.tabIndex = active ? 0 : -1;
    $(`panel-${tab}`).hidden = !active;
    if (active && focus) button.focus();
  }
}

function setupTabs() {
  for (const tab of TABS) $(`tab-${tab}`).addEventListener("click", () => selectTab(tab));
  $("tab-camera").parentElement.addEventListener("keydown", (event) => {
    const current = TABS.findIndex((t) => $(`tab-${t}`).getAttribute("aria-selected") === "true");
    const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: TABS.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    selectTab(TABS[(moves[event.key] + TABS.length) % TABS.length], { focus: true });
  });
  for (const button of document.querySelectorAll("[data-goto]")) {
    button.addEventListener("click", () => selectTab(button.dataset.goto, { focus: true }));
  }
}

// ---- the list ------------------------------------------------------------------------------------

function currentParams() {
  return api.listParams({ mood: state.applied, strategy: state.strategy, kind: state.kind });
}

async function loadList() {
  if (!state.applied) return;
  if (state.listController) state.listController.abort();
  const controller = new AbortController();
  state.listController = controller;
  const params = currentParams();
  $("results-status").textContent = "Finding music for this mood…";
  $("results").setAttribute("aria-busy", "true");
  try {
    const data = await api.recommendations(params, { signal: controller.signal });
    showList(data, params);
    banner("");
  } catch (err) {
    if (err.name === "AbortError") return;
    $("results-status").textContent = err.message;
    reportError(err);
  } finally {
    if (state.listController === controller) {
      state.listController = null;
      $("results").removeAttribute("aria-busy");
    }
  }
}

function showList(data, params) {
  state.list = data;
  state.listParams = params;
  renderResults($("result-list"), data, sendItemFeedback);
  $("results-empty").hidden = data.items.length > 0;
  if (!data.items.length) $("results-empty").textContent = "Nothing in the catalog fits this mood and choice.";
  const what = data.kind === "videos" ? "videos" : "tracks";
  $("results-status").textContent = `${data.items.length} ${what}, strategy ${data.strategy}.`;
  $("results-mood").textContent = `Made for ${moodWords(data.mood)} (from ${sourceWords()}) · strategy: ${data.strategy}`;
  $("offline-badge").hidden = !data.offline;
  $("sources").textContent = describeSources(data);
  $("fallbacks").replaceChildren(
    ...[...(data.fallback_reasons || []), ...(data.notes || [])].map((reason) => {
      const li = document.createElement("li");
      li.textContent = reason;
      return li;
    }),
  );
  for (const format of ["m3u8", "xspf", "csv"]) {
    $(`export-${format}`).href = api.exportUrl(params, format, data.list_id);
  }
  $("results-foot").hidden = false;
  $("not-mine").hidden = false;
  plane.setPath(data.path);
  if (!state.strategy) setPressed($("strategy-group"), "strategy", "");
}

function sourceWords() {
  return { camera: "the camera", photo: "your photo", manual: "your choice" }[state.source] || "you";
}

/** Make `mood` the list's mood and reload the list (or show `preloaded`, a list the server sent). */
function applyMood(mood, source, preloaded = null) {
  state.applied = mood;
  state.source = source;
  settler.reset(source === "camera" ? mood : null);
  plane.setApplied(mood);
  $("follow-camera").hidden = !(camera.running && source !== "camera");
  $("mood-now").textContent = `Mood: ${moodWords(mood)}`;
  if (preloaded) showList(preloaded, currentParams());
  else loadList();
}

/** Feedback names the list and the row; a dislike answers with the list, that one row replaced. */
async function sendItemFeedback(action, item) {
  try {
    const list = state.list;
    const position = list && list.list_id ? list.items.findIndex((shown) => shown.key === item.key) : -1;
    const payload =
      position >= 0
        ? { action, list: list.list_id, position }
        : { action, key: item.key, artist: item.artist, genre: item.genre || null };
    const answer = await api.sendFeedback(payload);
    const words = { like: "Liked", skip: "Skipped", dislike: "Disliked" }[action];
    $("results-status").textContent = `${words} “${item.title}”. Thanks — moodtape will take it into account.`;
    if (action === "dislike" && answer.list) {
      showList(answer.list, state.listParams);
      offerUndo(answer.list, item);
    } else if (action === "dislike") {
      loadList();
    }
    return true;
  } catch (err) {
    $("results-status").textContent = `Feedback not saved: ${err.message}`;
    reportError(err);
    return false;
  }
}

/** Show a past list from the history exactly as it was; its export links name it. */
async function reopenList(listId) {
  try {
    const data = await api.getList(listId);
    showList(data, state.listParams || new URLSearchParams({ kind: data.kind }));
    $("results-status").textContent = `A list from your history: ${data.items.length} ${data.kind}.`;
    return true;
  } catch (err) {
    $("results-status").textContent = `Could not open that list: ${err.message}`;
    reportError(err);
    return false;
  }
}

/** After a dislike: one Undo button next to the status line puts the row back. */
function offerUndo(list, item) {
  const status = $("results-status");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "undo";
  button.textContent = "Undo";
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const restored = await api.undoDislike(list.list_id);
      showList(restored, state.listParams);
      status.textContent = `“${item.title}” is back on the list.`;
    } catch (err) {
      status.textContent = `Could not undo: ${err.message}`;
      reportError(err);
    }
  });
  status.append(" ", button);
}

function setupControls() {
  $("strategy-group").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-strategy]");
    if (!button) return;
    state.strategy = button.dataset.strategy;
    setPressed($("strategy-group"), "strategy", state.strategy);
    loadList();
  });
  $("kind-group").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-kind]");
    if (!button) return;
    state.kind = button.dataset.kind;
    setPressed($("kind-group"), "kind", state.kind);
    loadList();
  });

  const form = $("not-mine-form");
  const open = $("not-mine-open");
  open.addEventListener("click", () => {
    form.hidden = !form.hidden;
    open.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) $("not-mine-select").focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const corrected = $("not-mine-select").value;
    const detected = state.applied ? state.applied.emotion : null;
    try {
      const answer = await api.sendFeedback({
        action: "not_my_mood",
        detected,
        corrected,
        strategy: state.strategy || null,
        kind: state.kind,
        n: api.LIST_LENGTH,
      });
      const [v, a] = state.points[corrected];
      const mood = answer.mood || { valence: v, arousal: a, emotion: corrected };
      form.hidden = true;
      open.setAttribute("aria-expanded", "false");
      // The server answers with the list for the corrected mood: no second request needed.
      applyMood({ ...mood, emotion: corrected, emotionOnly: true }, "manual", answer.recommendations || null);
      $("results-status").textContent = `Thanks. Using “${corrected}” instead of “${detected}”.`;
    } catch (err) {
      $("results-status").textContent = `Not saved: ${err.message}`;
      reportError(err);
    }
  });
}

// ---- the readout: bars, faces, mood --------------------------------------------------------------

function showFaces(result, { live }) {
  const face = mainFace(result.faces);
  drawBars($("bars"), state.emotions, face);
  // For a live camera, announce only what changes in words (not every percent), or screen
  // readers would speak ten times a second.
  const summary = live
    ? result.faces.length
      ? describeFaces(result.faces).replace(/ \d+ %/g, "")
      : "No face in view."
    : describeFaces(result.faces);
  if (summary !== state.lastSummary) {
    $("faces-summary").textContent = summary;
    state.lastSummary = summary;
  }
}

function onCameraFrame(result) {
  showFaces(result, { live: true });
  const now = performance.now();
  const mood = result.mood;
  plane.setLive(mood);
  timeline.add(mood, now);
  if (mood) {
    const who = result.faces.length > 1 ? `Group mood (${result.faces.length} faces)` : "Mood";
    $("mood-now").textContent = `${who}: ${moodWords(mood)}`;
  }
  if (state.source !== null && state.source !== "camera") return;
  const settled = settler.update(mood, now);
  if (settled) applyMood(settled, "camera");
}

function onPhoto(result) {
  showFaces(result, { live: false });
  const message = $("photo-message");
  $("photo-way-out").hidden = result.faces.length > 0;
  if (!result.faces.length) {
    message.textContent = "No face found in this photo. Try one where a face looks toward the camera, or pick a mood by hand.";
    message.classList.add("error");
    return;
  }
  message.classList.remove("error");
  message.textContent = describeFaces(result.faces);
  if (result.mood) applyMood(result.mood, "photo");
}

// ---- start-up ------------------------------------------------------------------------------------

function emotionButtons() {
  const group = $("emotion-buttons");
  group.replaceChildren(
    ...state.emotions.map((emotion) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `btn emotion emo-${emotion}`;
      button.textContent = emotion;
      button.addEventListener("click", () => {
        const [valence, arousal] = state.points[emotion];
        applyMood({ valence, arousal, emotion, emotionOnly: true }, "manual");
      });
      return button;
    }),
  );
  $("not-mine-select").replaceChildren(
    ...state.emotions.map((emotion) => {
      const option = document.createElement("option");
      option.value = emotion;
      option.textContent = emotion;
      return option;
    }),
  );
}

const settler = new MoodSettler();
const plane = new MoodPlane(
  $("plane"),
  state.points,
  (mood) => applyMood(mood, "manual"),
  (text) => ($("plane-status").textContent = text),
);
const timeline = new Timeline($("timeline"), $("timeline-summary"));
const camera = new LiveCamera(
  {
    intro: $("camera-intro"),
    problem: $("camera-problem"),
    problemText: $("camera-problem-text"),
    stage: $("camera-stage"),
    video: $("video"),
    overlay: $("camera-overlay"),
    note: $("camera-note"),
    stats: $("camera-stats"),
  },
  {
    onFrame: onCameraFrame,
    onError: (err, waitMs) => {
      if (err.unreachable) banner(`${err.message} Trying again in ${Math.ceil(waitMs / 1000)} s.`);
      else $("camera-stats").textContent = `${err.message} Waiting ${Math.ceil(waitMs / 1000)} s.`;
    },
    onRecover: () => banner(""),
    onStopped: () => {
      plane.setLive(null);
      $("follow-camera").hidden = true;
    },
  },
);

async function start() {
  setupTabs();
  setupControls();
  try {
    const config = await api.getConfig();
    if (Array.isArray(config.emotions) && config.emotions.length) state.emotions = config.emotions;
    if (config.emotion_points) {
      state.points = config.emotion_points;
      plane.points = state.points;
      plane.build();
    }
  } catch (err) {
    reportError(err);
  }
  emotionButtons();
  drawBars($("bars"), state.emotions, null);

  $("camera-start").addEventListener("click", () => camera.start());
  $("camera-retry").addEventListener("click", () => camera.start());
  $("camera-stop").addEventListener("click", () => camera.stop());
  $("follow-camera").addEventListener("click", () => {
    state.source = null;
    settler.reset(null);
    $("follow-camera").hidden = true;
  });

  setupPhoto({
    input: $("photo-input"),
    dropzone: $("panel-photo"),
    stage: $("photo-stage"),
    img: $("photo"),
    overlay: $("photo-overlay"),
    message: $("photo-message"),
    onAnalysed: onPhoto,
    onFailed: (err) => {
      $("photo-way-out").hidden = false;
      drawBars($("bars"), state.emotions, null);
      reportError(err);
    },
    onPasted: () => selectTab("photo"),
  });

  setupHistory({
    openButton: $("history-open"),
    dialog: $("history-dialog"),
    list: $("history-list"),
    status: $("history-status"),
    deleteButton: $("history-delete"),
    closeButton: $("history-close"),
    onError: reportError,
    onOpen: reopenList,
  });
  document.body.dataset.ready = "true";
}

start();
