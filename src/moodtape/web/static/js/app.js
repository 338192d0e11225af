// The page's entry point: wires the modes (camera, photo, by hand) to the mood, the pictures and
// the list. Each concern lives in its own module; this file holds the page's state and decides
// where keyboard focus goes after every action.

import * as api from "./api.js";
import { Announcer, STABLE_NONE_MS, redrawInterval } from "./calm.js";
import { setupHistory } from "./history.js";
import { ListView } from "./listview.js";
import { LiveCamera } from "./live.js";
import { DEFAULT_POINTS, MoodPlane } from "./moodplane.js";
import { markTall, trackFootHeights, uncoverFocus } from "./footroom.js";
import { guardPresses } from "./keyguard.js";
import { keepRoom, wording } from "./keeproom.js";
import { describeFaces, drawBars, fitMedia } from "./overlay.js";
import { mirrorStates } from "./pageflags.js";
import { setupPhoto } from "./photo.js";
import { say } from "./say.js";
import { distance, MIN_DISTANCE, MoodSettler } from "./settle.js";
import { SteadyWord } from "./steadyword.js";
import { writeText } from "./text.js";
import { Timeline } from "./timeline.js";
import { EMOTION_WORDS, emotionWord, moodLine, moodNumbers } from "./words.js";

const $ = (id) => document.getElementById(id);
const FALLBACK_EMOTIONS = Object.keys(EMOTION_WORDS);
const TABS = ["camera", "photo", "manual"];

const state = {
  emotions: FALLBACK_EMOTIONS,
  points: DEFAULT_POINTS,
  mode: "camera",
  /** The last photo's answer, shown again when the person comes back to photo mode. */
  photoResult: null,
  /** The camera's latest smoothed mood (null: no face, or camera off). */
  liveMood: null,
  /** A settled camera mood waiting for "Show it" (the list never swaps by itself). */
  offered: null,
  /** The offer is in use (focus or the pointer on it) and kept for a mood the face has left: back to
   * the list's mood (withdrawOffer) or on to another (keepOffer). Its words say the mood was a moment
   * ago; once focus and the pointer leave, it goes or the other mood's offer takes its place; the face
   * settling on its mood again makes it current (onSettled). */
  offerStale: false,
  /** The kind of pointer that last moved or pressed ("mouse", "touch", "pen"): only a mouse's
   * :hover counts as the offer in use, a tap leaves :hover behind until the next tap. */
  pointerType: "mouse",
  /** When the offer appeared, changed its words, or was borne out by the face settling on its mood
   * again: from then it stays as it is for OFFER_KEEP_MS at least. */
  offerSince: -Infinity,
  /** What the face asked of the offer meanwhile, done once OFFER_KEEP_MS is over: a mood to offer
   * instead, null to withdraw it; undefined: nothing. */
  offerNext: undefined,
  readoutAt: -Infinity,
  /** When the server began refusing the camera's frames (performance.now()); null: the last was read. */
  refusedSince: null,
  /** When the camera last lost the face (null: a face is in view). */
  noFaceSince: null,
  /** Mood news made while a modal dialog was open, said when it closes: {text, label?} or null. */
  heldMoodNews: null,
};

/** An offer, once shown, keeps its place and its words this long unless the person acts on it. A face
 * flickering between two moods made it come and go, and change its words under a resting pointer,
 * 20 times a minute; the face settling on the offer's mood again restarts the time. */
const OFFER_KEEP_MS = 15000;
/** While the server refuses frames (429, 503…), the last reading stays on screen this long, then goes:
 * a refusal or two between good frames must not make the reading flicker, but a face read 24 s ago
 * was still shown as "Live mood: happy" for as long as the refusals lasted. */
const STALE_READING_MS = 5000;

/** The photo panel (photo.js): {handle, abandon}; set up by start(). */
let photo = null;

/** Measures what floats at the foot of the screen again (footroom.js), with the page's state classes
 * (pageflags.js); set up by start(). */
let measureFoot = () => {};

// ---- small UI helpers -------------------------------------------------------------------------

function banner(text) {
  const el = $("banner");
  // An alert is read out whenever its text changes: the same news is not written twice.
  if (el.textContent === (text || "") && el.hidden === !text) return;
  // The outage is over (an answer came): said too, briefly and politely, or a screen reader that
  // heard the alert would never learn that the page works again. In a line of its own: the mood news
  // the same answer may bring would overwrite it in the mood's line before it was heard.
  const recovered = !text && Boolean(el.dataset.outage);
  el.textContent = text || "";
  el.hidden = !text;
  delete el.dataset.outage;
  sayConnection(recovered ? "Connected again." : "");
}

/** Say `text` in the connection's status line; behind a modal dialog (History: the page is inert)
 * it waits for the dialog to close, like the mood's news. */
let heldConnection = "";
function sayConnection(text) {
  heldConnection = text && document.querySelector(":modal") ? text : "";
  if (!heldConnection) say($("connection-status"), text);
}

/** The server is gone: say so once. Later failures in the same outage (another request, the camera
 * paused or not) keep the first words, so that the alert is not read out again for the same news;
 * `retrying` says that the camera's frames keep trying (not so for other requests, or on-device). */
function outage(err, { retrying = false } = {}) {
  const el = $("banner");
  if (!el.hidden && el.dataset.outage) return;
  banner(retrying ? `${err.message} Trying again every few seconds.` : err.message);
  el.dataset.outage = "true";
}

function reportError(err) {
  if (err && err.unreachable) outage(err);
}

/** Write "happy — pleasant and energetic" with the numbers after it, smaller. Called once a frame:
 * the same words are not built again (each rebuild cost a style and layout pass for nothing). */
function writeMood(el, lead, mood, tail = "") {
  const line = `${lead}${moodLine(mood)}${tail}`;
  const figures = ` (${moodNumbers(mood)})`;
  if (el.textContent === line + figures && el.querySelector(".numbers")) return;
  const numbers = document.createElement("span");
  numbers.className = "numbers";
  numbers.textContent = figures;
  el.replaceChildren(line, numbers);
}

function showMoodNow() {
  const el = $("mood-now");
  if (camera.running && state.liveMood && !camera.paused) writeMood(el, "Live mood: ", state.liveMood);
  else if (list.applied) writeMood(el, "Mood of the list: ", list.applied);
  else writeText(el, "No mood yet.");
}

// ---- the readout: what the face in this mode shows ----------------------------------------------

function showFaces(result) {
  const faces = result ? result.faces : [];
  // The bars show the face the mood was read from: a stream's first (the person at the camera, who
  // may be smaller than a bystander leaning in), else the largest.
  let face = result && result.mood && result.mood.source === "face" && faces.length ? faces[0] : null;
  if (!face) for (const f of faces) if (!face || f.box[2] * f.box[3] > face.box[2] * face.box[3]) face = f;
  drawBars($("bars"), state.emotions, face);
  return faces;
}

/** Each mode shows only its own reading: the camera's, the photo's, or none when picked by hand. */
function showReadout() {
  const summary = $("faces-summary");
  if (state.mode === "photo" && state.photoResult) {
    showFaces(state.photoResult);
    summary.textContent = describeFaces(state.photoResult.faces, state.photoResult.image);
    return;
  }
  showFaces(null);
  summary.textContent = {
    camera: camera.running ? "Waiting for the first frame…" : "The camera is off.",
    photo: "No photo yet.",
    manual: "No face is read when you pick a mood by hand.",
  }[state.mode];
}

// ---- modes -------------------------------------------------------------------------------------

function selectTab(name, { focus = false } = {}) {
  // Camera mode owns the camera: leaving it ends the tracks and the frames, and says so. A start
  // still waiting for the browser's permission is cancelled too: the camera must not come on in a
  // hidden panel once the person has moved on.
  if (name !== "camera" && camera.active) {
    const wasOn = camera.running;
    camera.stop();
    endWaiting(); // a start cancelled: its button's look and its words go, not only at its answer
    if (wasOn) sayMood("Camera off.");
  }
  // Photo mode owns its photo in the same way: one still being read is dropped, or its list would
  // replace the camera's (or the mood picked by hand) seconds after the person moved on.
  if (name !== "photo" && photo && photo.abandon()) state.photoResult = null;
  releasePlacesOfTheCamera();
  state.mode = name;
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    const active = tab === name;
    button.setAttribute("aria-selected", String(active));
    button.tabIndex = active ? 0 : -1;
    $(`panel-${tab}`).hidden = !active;
    if (active && focus) button.focus();
  }
  showReadout();
  showMoodNow();
}

function setupTabs() {
  for (const tab of TABS) $(`tab-${tab}`).addEventListener("click", () => selectTab(tab));
  $("tab-camera").parentElement.addEventListener("keydown", (event) => {
    // From the focused tab: while the camera runs, it need not be the selected one (below).
    const from = TABS.indexOf(event.target.id.replace("tab-", ""));
    const moves = { ArrowRight: from + 1, ArrowLeft: from - 1, Home: 0, End: TABS.length - 1 };
    if (from < 0 || !(event.key in moves)) return;
    event.preventDefault();
    const target = TABS[(moves[event.key] + TABS.length) % TABS.length];
    // While the camera runs or starts, arrows only move focus (manual activation; Enter or Space
    // selects): arrowing along the tabs to hear their names must not switch the camera off.
    if (camera.active) $(`tab-${target}`).focus();
    else selectTab(target, { focus: true });
  });
  for (const button of document.querySelectorAll("[data-goto]")) {
    button.addEventListener("click", () => selectTab(button.dataset.goto, { focus: true }));
  }
}

// ---- the mood the list is made for -------------------------------------------------------------

function markEmotion(mood, source) {
  for (const button of $("emotion-buttons").querySelectorAll("button")) {
    const chosen = source === "manual" && mood && mood.emotionOnly && button.dataset.emotion === mood.emotion;
    button.setAttribute("aria-pressed", String(Boolean(chosen)));
  }
}

/** The words of the frame figures' line (live.js writeStats and its rate), longest first. */
const STATS_WORDINGS = [
  "15.0 frames/s · 9999 ms",
  "Paused: no frames sent.",
  "No answer; retrying.",
  "Server busy; retrying.",
  "Server error; retrying.",
  "Frame refused; retrying.",
];

/** What the camera rewrites with no key pressed keeps the room of its longest words at any width
 * and text size (keeproom.js): the frame figures, the offer's words. */
function keepRoomForCameraWords() {
  roomFor.stats = keepRoom($("camera-stats"), STATS_WORDINGS.map(wording));
  const offers = Object.keys(EMOTION_WORDS).flatMap((e) => [offerWords(e), offerWords(e, true)]);
  roomFor.offer = keepRoom($("new-list-text"), offers.map(wording));
}

/** Measure again now what keepRoom keeps room for, where it has just been shown: its resize
 * observer reports only after the first paint, a frame too late. */
const roomFor = { stats: () => {}, offer: () => {} };

/** The offer's words. The stale ones ("a moment ago") are about as long, so the box keeps its size. */
function offerWords(emotion, stale = false) {
  const word = emotionWord(emotion);
  return stale
    ? `Your face looked ${word} a moment ago. New list still ready —`
    : `Your face has looked ${word} for a few seconds. New list ready —`;
}

function hideOffer() {
  state.offered = null;
  state.offerStale = false;
  state.offerNext = undefined;
  announcer.forgetNews();
  $("new-list").hidden = true;
}

/** Focus or the pointer is on the offer: hiding it now would drop focus to <body> or move the list
 * under the pointer. A finger that tapped the offer's words is not resting on it, though :hover stays
 * there until the next tap: on a touch screen the offer stood on an old mood until then. */
function offerInUse() {
  const box = $("new-list");
  const hovered = state.pointerType === "mouse" && box.matches(":hover");
  return !box.hidden && (box.contains(document.activeElement) || hovered);
}

/** The face went back to the list's mood: the offer goes, but only once nobody is using it. Until
 * then it says honestly that the mood was a moment ago, and "Show it" still works. */
function withdrawOffer(now) {
  if (!offerInUse()) {
    hideOffer();
    return;
  }
  markOfferStale(now);
}

/** The offer stays while in use, its words saying that its mood was a moment ago. */
function markOfferStale(now) {
  if (state.offerStale || !state.offered) return;
  state.offerStale = true;
  state.offerSince = now;
  $("new-list-text").textContent = offerWords(state.offered.emotion, true);
}

/** Show "New list ready" for `mood`, or change the offer shown to it. */
function offer(mood, now) {
  state.offered = mood;
  state.offerStale = false;
  state.offerSince = now;
  state.offerNext = undefined;
  $("new-list-text").textContent = offerWords(mood.emotion);
  $("new-list").hidden = false;
  roomFor.offer(); // before the first paint: measured later, the floating offer grew 48 px upward
  // On a phone the offer floats at the foot of the screen: a control that has focus there, left
  // where it is while the person reads, would be hidden under it (WCAG 2.4.11).
  measureFoot();
  uncoverFocus($("new-list"));
  // The offer is news for a screen reader too: the mood's words now end with it (announceWords).
  announcer.addNews(mood.emotion);
}

/** Once the offer has stood long enough, do what the face asked of it meanwhile (every frame). An
 * offer for another mood waits while focus or the pointer is on it: "Show it", under a keyboard
 * user's cursor, turned from the sad list they had heard of to an angry one with no key pressed.
 * Until then the offer says honestly that its mood was a moment ago (as withdrawOffer does). */
function keepOffer(now) {
  if (!state.offered || state.offerNext === undefined || now - state.offerSince < OFFER_KEEP_MS) return;
  const next = state.offerNext;
  if (next && offerInUse()) {
    markOfferStale(now);
    return;
  }
  state.offerNext = undefined;
  if (next) offer(next, now);
  else withdrawOffer(now);
}

/** After a list the camera asked for by itself could not be loaded, the camera waits before asking
 * again: the server's Retry-After, else 5 s doubling up to a minute. Without this the first list was
 * asked for (and its failure said) every second for as long as the server refused. A person's own
 * choice (a button, "Show it") is never held back. */
const cameraRetry = { failures: 0, until: 0 };

function cameraListFailed(err) {
  cameraRetry.failures += 1;
  const backoff = Math.min(60, 5 * 2 ** (cameraRetry.failures - 1));
  // A rate limit's Retry-After (429) is the wait: the window resets then, and a longer guess of ours
  // kept the list back for nothing (never under a second). An overloaded or broken server's (5xx)
  // is a lower bound: the doubling still applies, or every page would ask again every second. The
  // daily history budget's Retry-After (hours, to midnight UTC) is never the camera's: a list over
  // that budget is shown, only not kept, so it should not come here, and if it did, hours is wrong.
  const budget = err && err.code === "history_budget_spent";
  const asked = err && err.retryAfter != null && !budget ? Math.max(1, err.retryAfter) : null;
  const wait = asked !== null && err.status === 429 ? asked : Math.max(asked ?? 0, backoff);
  cameraRetry.until = performance.now() + 1000 * wait;
}

function resetCameraRetry() {
  cameraRetry.failures = 0;
  cameraRetry.until = 0;
}

/** Make `mood` the list's mood and load its list (or show `preloaded`, a list the server sent). */
async function applyMood(mood, source, { preloaded = null, focusList = false } = {}) {
  // "Show it" pressed from the keyboard: the offer (and focus on it) stays until the new list is
  // drawn and takes focus, so that focus never falls to <body> while the list loads.
  const focusOnOffer = $("new-list").contains(document.activeElement);
  if (focusOnOffer) {
    state.offered = null;
    state.offerNext = undefined;
  } else hideOffer();
  showListMood(mood, source);
  $("mood-now").style.minHeight = "";
  // A mood picked by hand (or from a photo) after a lost camera, as its explanation suggests, even
  // with no press or key the page saw (a screen reader's click): the camera's empty space goes.
  if (source !== "camera") releasePlacesOfTheCamera();
  // The mood line says the new mood with the plane, at the press: outside camera mode it is as long
  // as its words (style.css), and written when a slow list came it moved the plane under a keyboard
  // user's cursor 24 px down, with no key pressed.
  const showing = list.show(mood, source, { preloaded, focusList });
  showMoodNow();
  // Not loaded: the list's mood went back to the one on screen (onReverted: showListMood).
  const shown = await showing;
  if (shown === false && source === "camera" && !focusList) cameraListFailed(list.failure);
  else if (shown) resetCameraRetry();
  if (focusOnOffer && !state.offered) {
    // Drawn, or a newer load took over with nobody on the offer: it goes. Else "Show it" keeps
    // focus and can be pressed again.
    if (shown || (shown === null && !offerInUse())) hideOffer();
    else state.offered = mood;
  }
  // Not loaded: the line goes back to the list on screen's mood, maybe fewer lines; it keeps its
  // height until the next pick, or the plane under it would move up with no key pressed.
  if (shown === false) holdHeight($("mood-now"));
  showMoodNow();
}

function holdHeight(el) {
  el.style.minHeight = `${el.getBoundingClientRect().height}px`;
}

/** The presses and keys that let go of the places a lost camera held (the first of them does). */
const FIRST_INPUT = ["pointerdown", "keydown"];

/** When the person last pressed a key or a pointer: the browser takes what moves within half a
 * second of it as their doing (not a layout shift); what moves later, nobody asked for. */
let lastInputAt = -Infinity;
for (const type of FIRST_INPUT) document.addEventListener(type, () => (lastInputAt = performance.now()), true);

/** Past this (ms) after the last press or key, what the camera's answer changes would move the
 * page unasked: a smaller change is let go at once, a later one at the person's next input. */
const LATE_ANSWER_MS = 400;

/** The camera picture's width / height expected at the next start: the last one seen, else 4:3
 * (what most webcams give when asked for nothing in particular). */
let expectedRatio = 4 / 3;

/** Whether startCamera made room at the press (makeRoomForStage) that its answer has to settle. */
let roomMadeAtPress = false;

/** The window's width when that room was made: the room is that width's (settleRoomMadeAtPress). */
let roomMadeAtWidth = 0;

/** Starts still waiting for the camera's answer: a second press while the browser asks makes one
 * start give way to the next (its answer null), and only the last one's answer settles the room. */
let startsPending = 0;

/** "Start camera" or "Try the camera again" pressed: the card takes the height the running stage
 * will have (its picture at the expected ratio) and the offer its place, now, inside the browser's
 * half second after the press, so that the picture can come whenever it comes (a permission
 * prompt taken slowly: no press or key the page sees) into ready room. Before, it swapped the intro
 * or the explanation for the picture with no input to explain it: the mood card went 376 px down
 * and the list 82 px at 1280×900 (layout shift 0.09), the list 48 px up at 390×844. The card only
 * ever grows here; a taller intro keeps its height until the next input (settleRoomMadeAtPress). */
function makeRoomForStage() {
  // Pressed again while the browser asks: the room made at the first press is the stage's already
  // (before, measured again on top of it: 112 px more a press, kept even after Stop).
  if (roomMadeAtPress) return;
  const card = $("panel-camera").closest(".card");
  if (card.classList.contains("held")) return; // a lost camera's card: held at its stage's height
  let measured;
  try {
    measured = measureStageDelta();
  } catch (error) {
    console.warn("moodtape: could not measure the camera's room", error);
    return; // the camera starts all the same, as before the room was made at the press
  }
  const { delta, pictureHeight } = measured;
  roomMadeAtPress = true;
  roomMadeAtWidth = window.innerWidth;
  card.style.minHeight = `${card.getBoundingClientRect().height + Math.max(0, delta)}px`;
  $("video").parentElement.style.setProperty("--picture-room", `${pictureHeight}px`);
  reserveCameraPlaces();
}

/** While the camera runs (or is asked for), the offer's place is kept (invisible) with words as long
 * as the longest offer, and in the two columns the list's "Camera on · Stop" chip's: when they show
 * (the chip once the reader is ready, the offer when the mood changes), nothing below moves. */
function reserveCameraPlaces() {
  $("new-list-text").textContent = offerWords("disgust");
  $("new-list").classList.add("reserved");
  $("results-camera").classList.add("reserved");
}

/** How much taller (px) the camera's panel is with its stage on show, the picture at the expected
 * ratio, than it is now, and that picture's height: copies of the panel as it is and as it will be
 * are laid out hidden beside it and read in one forced layout, nothing on screen touched. The copies
 * keep their ids for the style sheet's rules (phones lay the stage out as a bar); they are gone
 * before any other script runs. */
function measureStageDelta() {
  const panel = $("panel-camera");
  const width = panel.getBoundingClientRect().width;
  const now = hiddenCopy(panel, width);
  const later = hiddenCopy(panel, width);
  later.querySelector(".intro").hidden = true;
  later.querySelector(".problem").hidden = true;
  later.querySelector(".stage").hidden = false;
  const wrap = later.querySelector(".media-wrap");
  wrap.style.removeProperty("--picture-room");
  fitMedia(wrap, expectedRatio * 1000, 1000);
  panel.after(now, later);
  const delta = later.getBoundingClientRect().height - now.getBoundingClientRect().height;
  const pictureHeight = wrap.getBoundingClientRect().height;
  now.remove();
  later.remove();
  return { delta, pictureHeight };
}

function hiddenCopy(el, width) {
  const copy = el.cloneNode(true);
  copy.setAttribute("aria-hidden", "true");
  copy.inert = true;
  copy.style.cssText = `position:absolute;visibility:hidden;left:0;top:0;width:${width}px`;
  return copy;
}

/** The camera answered the press (`started`: true, false, or null when camera mode was left and
 * selectTab let go). Soon after the press, whatever it changes is the person's doing: let go at
 * once. Later, the room made at the press stays until the next input: a failed try keeps the card
 * at its height, its explanation scrolling inside it if longer (keepHoldingAfterFailedTry), the
 * offer's place kept; a picture shorter than the intro it replaced keeps the intro's height. */
function settleRoomMadeAtPress(started) {
  if (started === null && startsPending > 0) return; // a newer start took over: its answer settles
  const made = roomMadeAtPress;
  roomMadeAtPress = false;
  if (!made || started === null) return;
  const soon = performance.now() - lastInputAt < LATE_ANSWER_MS;
  const card = $("panel-camera").closest(".card");
  // A window of another width meanwhile: the room was the old width's, and the page flows anew.
  const resized = window.innerWidth !== roomMadeAtWidth;
  if ((soon || resized) && !card.classList.contains("held")) releasePlacesOfTheCamera();
  else if (started) listenForFirstInput();
  else if (!card.classList.contains("held")) holdCameraCard();
}

/** The picture's ratio, remembered for the next start's room (makeRoomForStage). */
function rememberPictureRatio() {
  const [track] = camera.media ? camera.media.getVideoTracks() : [];
  const settings = track && track.getSettings ? track.getSettings() : {};
  if (settings.width && settings.height) expectedRatio = settings.width / settings.height;
}

/** The camera goes by itself (unplugged, switched off, its permission taken back): nobody pressed
 * anything, so nothing may move. Its card keeps its height and the offer its reserved place until
 * the person does something: the first press or key anywhere (a move within half a second of one is
 * not a layout shift), a mood picked by hand, another mode, the camera back, a window of another
 * width (a failed try keeps holding: keepHoldingAfterFailedTry). Before, the
 * picture's box gave way to the shorter explanation and the mood card moved 376 px up, the list
 * 82 px (CLS 0.18 at 1280×900); then the card kept 396 px of empty space until a mode change or a
 * camera that came back, the mood plane below the fold.
 * The height is kept exactly, not only as a floor: on a phone the explanation and its three buttons
 * are taller than the small preview they replace, and the card grew and pushed the list 72 px down
 * (390×844). Until the first input, what does not fit scrolls inside the card (style.css: .held). */
function holdCameraCard() {
  const card = $("panel-camera").closest(".card");
  holdHeight(card);
  card.style.maxHeight = card.style.minHeight;
  card.classList.add("held");
  listenForFirstInput();
}

/** The width the camera's card was held at (holdCameraCard): a new one lets go (releaseOnNewWidth). */
let heldAtWidth = 0;

/** Arm what lets a lost camera's places go: the first press or key, or a window of another width. */
function listenForFirstInput() {
  for (const type of FIRST_INPUT) document.addEventListener(type, releaseOnFirstInput, true);
  heldAtWidth = window.innerWidth;
  window.addEventListener("resize", releaseOnNewWidth);
}

/** A phone turned, or a window made narrower or wider, while the card is held: the height kept
 * was the old width's, and the whole page flows again anyway. Before, the card stayed 252 px tall
 * while its words needed 405 (a phone turned from 844×390 to 390×844: the buttons cut off), or
 * 727 px for 405 px of words (a desktop narrowed to 390 px). Only the width: a phone's toolbar
 * that comes and goes as the page scrolls changes the height alone. */
function releaseOnNewWidth() {
  if (window.innerWidth !== heldAtWidth) releasePlacesOfTheCamera();
}

/** The person's first press or key after a lost camera lets its places go, but not "Try the camera
 * again" pressed (a click, Enter or Space on it): let go at the press, the card would shrink, then
 * grow again as the picture comes back; startCamera lets go once the camera is back. Any other key
 * on it lets go: after a failed try, focus stays there, and Tab from it let nothing go. */
function releaseOnFirstInput(event) {
  const onRetry = event.target instanceof Node && $("camera-retry").contains(event.target);
  if (onRetry && (event.type === "pointerdown" || event.key === "Enter" || event.key === " ")) return;
  releasePlacesOfTheCamera();
}

/** The person chose what comes after a lost camera: the places held for it are let go. */
function releasePlacesOfTheCamera() {
  for (const type of FIRST_INPUT) document.removeEventListener(type, releaseOnFirstInput, true);
  window.removeEventListener("resize", releaseOnNewWidth);
  const card = $("panel-camera").closest(".card");
  card.style.minHeight = "";
  card.style.maxHeight = "";
  card.classList.remove("held");
  $("camera-problem-text").style.minHeight = "";
  // The picture's size is the page's own again (a room made at one width capped it for good: a
  // window widened from 700 to 1600 px kept a 120×90 picture in the desktop layout).
  $("video").parentElement.style.removeProperty("--picture-room");
  // The camera back: the offer's and the list's "Stop" places are kept while it runs (onStarted);
  // gone: let go.
  $("new-list").classList.toggle("reserved", camera.running);
  $("results-camera").classList.toggle("reserved", camera.running);
}

/** The plane, the pressed emotion and the camera's follow switch show the list's mood: the one
 * being applied, or by default the list's own (after a failed load, that of the list on screen). */
function showListMood(mood = list.applied, source = list.source) {
  settler.reset(source === "camera" ? mood : null);
  plane.setApplied(mood);
  markEmotion(mood, source);
  showFollowSwitch(source);
}

/** "Follow my face again" while the camera runs and the list was made from something else (a photo,
 * a pick by hand, a list from history): the one way back to a list that follows the face. */
function showFollowSwitch(source = list.source) {
  $("follow-camera").hidden = !(camera.running && source && source !== "camera");
}

/** The line "Follow my face again" says when pressed (the button itself goes, and focus with it). */
const FOLLOW_WORDS = "The list follows your face again.";

/** "Follow my face again" pressed: the list follows the face from now on. Focus goes to "Stop camera",
 * the camera's first control, in the same bar, where starting the camera puts it too (a held Enter's
 * repeats do not press it: keyguard.js). A focus move alone said nothing of what changed, so the
 * mood's line says it once, and the face's next line waits its gap after it (calm.js saidOther). */
function followFaceAgain() {
  list.source = null;
  settler.reset(null);
  $("follow-camera").hidden = true;
  $("camera-stop").focus();
  // After the focus move, so that a screen reader says the line after the newly focused button.
  sayMood(FOLLOW_WORDS);
  announcer.saidOther(performance.now());
}

/** A settled camera mood: the first list appears by itself; later ones wait for "Show it". An offer
 * on screen is not changed at once (keepOffer): the face may only be flickering between moods. */
function onSettled(mood, now) {
  if (!list.applied) {
    applyMood(mood, "camera");
    return;
  }
  const backToList = mood.emotion === list.applied.emotion || distance(mood, list.applied) < MIN_DISTANCE;
  if (!state.offered) {
    if (!backToList) offer(mood, now);
    return;
  }
  if (mood.emotion === state.offered.emotion) {
    // The face bears the offer out again: it stays as it is, and nothing asked meanwhile changes it.
    // An offer kept in use with "a moment ago" is current again: before, its words stayed old while
    // the face's line said "A new list for it is ready", and on leaving it was offered (and said) anew.
    if (state.offerStale) {
      state.offerStale = false;
      $("new-list-text").textContent = offerWords(state.offered.emotion);
    }
    state.offerSince = now;
    state.offerNext = undefined;
    return;
  }
  state.offerNext = backToList ? null : mood;
  keepOffer(now);
}

// ---- camera frames -----------------------------------------------------------------------------

/** @param shown false: no face in this frame, but the last was a moment ago (live.js, FaceGap) */
function onCameraFrame(result, now, shown = true) {
  const mood = result.mood;
  state.refusedSince = null;
  // The list goes first: when this frame settles a new mood, its offer is news in the same words.
  // Both have their own, longer rule for moments without a face (STABLE_NONE_MS).
  const deciding = followFace(mood, now);
  announcer.update(mood ? mood.emotion : null, now, { hold: deciding });
  // A face missed for a moment: the reading on screen stays as it was (it flipped to "No face in
  // view" and back 2–3 times a second), and so does the word held for it.
  if (!shown) return;
  // The words on screen wait for a label that clearly leads (steadyword.js); the rest follows the frame.
  const steady = steadyWord.frame(result, now);
  state.liveMood = steady.mood;
  // Bars, words, the live dot and the timeline follow every frame, or once a second with reduced motion.
  if (now - state.readoutAt >= redrawInterval()) {
    state.readoutAt = now;
    timeline.add(mood, now);
    const faces = showFaces(result);
    writeText($("faces-summary"), faces.length ? describeFaces(steady.faces, result.image, true).replace(/ \d+ %/g, "") : "No face in view.");
    plane.setLive(mood);
    showMoodNow();
  }
}

/** The camera's part in the list: feed the settler when the camera drives the list.
 * @returns whether a change of mood is being held (the list has not decided about it yet) */
function followFace(mood, now) {
  if (list.source !== null && list.source !== "camera") return false;
  if (now < cameraRetry.until) return false; // the server refused the camera's last list: wait
  // Like the announcer, the list ignores short moments without a face.
  if (mood) state.noFaceSince = null;
  else if (state.noFaceSince === null) state.noFaceSince = now;
  if (!mood && now - state.noFaceSince < STABLE_NONE_MS) return settler.since !== null;
  const settled = settler.update(mood, now);
  if (settled) onSettled(settled, now);
  keepOffer(now);
  return settler.since !== null;
}

/** A frame the server refused (the camera retries by itself): short words of our own that fit the
 * stats line's one line, and its box (12.5em, 170 px on a desktop): a longer line widened the box,
 * which is aligned right, and moved it sideways (or onto a line of its own) while it showed. The
 * server's own sentence and the wait ("The server is busy; try again shortly. Waiting 8 s.")
 * wrapped it onto two or three lines and pushed the page below down, and back up at the next good
 * frame: a flaky server moved the page every second or two. */
function refusalWords(err) {
  if (!err || !err.status) return "Reader failed; retrying."; // the on-device reader's own failure
  if (err.status === 429 || err.status === 503) return "Server busy; retrying.";
  return err.status >= 500 ? "Server error; retrying." : "Frame refused; retrying.";
}

/** The server stopped answering the camera's frames, or has refused them for STALE_READING_MS: drop
 * the live reading until it reads one again; `words` go in the stats line. */
function cameraStalled(words = "No answer; retrying.") {
  camera.showStalled(words);
  state.liveMood = null;
  plane.setLive(null);
  showFaces(null);
  $("faces-summary").textContent = "Waiting for the server…";
  showMoodNow();
}

/** The face's words, and the offer's when it is for this mood, or is news not said yet (`news`, the
 * offer's mood) whatever the face shows now: the offer stays 15 s, the face may have moved on.
 * `saidNews` is the offer's mood the line before said (calm.js's spokenNews): not said twice in a row. */
function announceWords(label, news = undefined, saidNews = undefined, sameFace = false) {
  const offered = state.offered;
  // No settled face (a restless one), or the face's words said last time: the offer alone, if it
  // still stands.
  if (label === undefined || (sameFace && news !== undefined)) {
    return offered && offered.emotion === news ? `A new list for ${emotionWord(news)} is ready: press Show it.` : "";
  }
  let offer = "";
  // An offer just said (alone, the face restless) is not said again when the face settles on its mood.
  if (offered && offered.emotion === label && saidNews !== label) offer = " A new list for it is ready: press Show it.";
  else if (offered && news !== undefined && offered.emotion === news) {
    offer = ` A new list for ${emotionWord(news)} is ready: press Show it.`;
  }
  return `${label === null ? "No face in view." : `Your face looks ${emotionWord(label)}.`}${offer}`;
}

/** Say `text` in the mood's live region; `label` is the mood it is about, if any. While a modal
 * dialog (History) is open the rest of the page is inert, out of a screen reader's reach: a line
 * written then would never be heard, so the latest one waits for the dialog to close. */
function sayMood(text, label = undefined, news = undefined, saidNews = undefined, sameFace = false) {
  if (document.querySelector(":modal")) {
    // Only the newest line is kept, and `sameFace` compares it with the line before, which may be
    // held too and never heard: the face's words are left out only if no held line changed them.
    const held = state.heldMoodNews;
    const unchanged = sameFace && (!held || held.sameFace);
    state.heldMoodNews = { text, label, news, saidNews, sameFace: unchanged };
    return;
  }
  state.heldMoodNews = null;
  waitingOnLine = text === WAITING_WORDS;
  say($("mood-announce"), text);
}

/** A dialog closed: say the mood news held meanwhile, in words as of now (the offer it names may
 * have gone since), after focus has moved back to the page. */
function sayHeldMoodNews() {
  const held = state.heldMoodNews;
  if (!held) return;
  setTimeout(() => {
    if (state.heldMoodNews !== held) return; // newer news, or the camera stopped meanwhile
    // Said now or never: an offer gone meanwhile must not be said at a later close, when an offer
    // for the same mood may be back and about to be said by the announcer itself (twice, 1 s apart).
    state.heldMoodNews = null;
    const asWritten = held.label === undefined && held.news === undefined; // no mood's words: as is
    const words = asWritten ? held.text : announceWords(held.label, held.news, held.saidNews, held.sameFace);
    if (asWritten || words) sayMood(words); // an offer said alone that went meanwhile: nothing
  });
}

/** Put focus on `target` unless the person has moved it meanwhile: only when it is on <body> or on
 * something no longer shown (the button that started it all, hidden since; or kept in place but
 * invisible, as the offer's reserved box is). */
function focusIfLost(target) {
  const active = document.activeElement;
  const shown = active && active.checkVisibility ? active.checkVisibility({ visibilityProperty: true, checkVisibilityCSS: true }) : true;
  if (!active || active === document.body || !active.getClientRects().length || !shown) target.focus();
}

/** A camera that answers within this (ms) of the press needs no room made for it: what it changes
 * is the press's doing (the browser allows half a second). A refusal (a permission denied before)
 * comes in a few dozen ms: with the room made at the press itself, the grown card was painted for
 * ~44 ms before the explanation took its place, a flash of a blank card. */
const QUICK_ANSWER_MS = 150;

/** The camera permission as the browser last said ("granted", "prompt", "denied"; "unknown" where it
 * cannot say): it decides, at the press, whether the camera's room is made there and then. */
let cameraPermission = "unknown";

/** Read the camera permission once at load and keep it current (a person may grant or block it in
 * the browser's settings at any time). A browser without the Permissions API, or one that does not
 * know the "camera" name, leaves it "unknown". */
async function watchCameraPermission() {
  try {
    const status = await navigator.permissions.query({ name: "camera" });
    cameraPermission = status.state;
    status.onchange = () => {
      cameraPermission = status.state;
    };
  } catch {
    cameraPermission = "unknown";
  }
}

/** When the camera's room is made for a press of "Start camera" / "Try the camera again":
 * - "prompt": at the press itself. The browser asks the person, whose answer takes seconds; a room
 *   left to a timer comes late when the page is busy just after the press (900 ms blocked: the room
 *   at +921 ms, outside the input's half second, a 0.03 layout shift).
 * - "denied": never. The refusal comes at once, and its explanation takes the card's place.
 * - "granted" or unknown: QUICK_ANSWER_MS after the press if the browser is still asking. A quick
 *   answer (or a quick error: no camera, camera busy) is likely, and would otherwise flash a
 *   grown, blank card.
 * Returns the timer to clear once the browser has answered, if one was set. */
function makeRoomForPress() {
  if (cameraPermission === "prompt") {
    makeRoomForStage();
    return undefined;
  }
  if (cameraPermission === "denied") return undefined;
  return setTimeout(makeRoomIfStillAsking, QUICK_ANSWER_MS);
}

/** The browser is still asking for the camera QUICK_ANSWER_MS after the press: its answer may come
 * whenever, so the room is made now (makeRoomForStage), still inside the press's half second. Not
 * when camera mode was left meanwhile (stop() ends the asking). */
function makeRoomIfStillAsking() {
  if (camera.asking) makeRoomForStage();
}

/** What the page says while the browser is still asking for the camera (a permission prompt, a
 * camera slow to wake): said WAITING_WORDS_MS after the press, and at once to a press made meanwhile.
 * templates/index.html repeats these words (#camera-waiting, #camera-retry's .waiting-label): change both. */
const WAITING_WORDS = "Waiting for the camera…";
/** A camera that answers sooner (most do, in a few hundred ms) needs no words: it is there. */
const WAITING_WORDS_MS = 1000;
/** The waiting words are the mood line's last words (written, or still to be written back by say()
 * after a repeat's gap): set by sayMood, so that endWaiting knows without reading the line back. */
let waitingOnLine = false;
/** The timer of the latest start's waiting words: one at a time, so that a start cancelled (camera
 * mode left) cannot speak for a newer one. */
let waitingTimer = 0;

/** Say that the camera is still being asked for, if it is, and show it: under "Start camera", or on
 * "Try the camera again" itself (the intro is out of sight then; a line kept for the words among the
 * problem's buttons would make the card a line taller on a phone, where it is kept to the height of
 * its words). The button's dimming alone told a sighted person little. Shown even while a dialog
 * holds the words. */
function sayWaiting() {
  if (!camera.asking) return;
  showWaiting(true);
  sayMood(WAITING_WORDS);
}

/** Show or hide the waiting words: in the intro, in place of the question above the other ways in,
 * and on "Try the camera again", in place of its label. The words are in the page always, their
 * place kept (style.css .intro-lead, .two-labels): only whether they are drawn changes, so nothing
 * moves at any text size. The retry's name follows its shown words, as a screen reader finds them. */
function showWaiting(waiting) {
  $("camera-intro").classList.toggle("waiting", waiting);
  $("camera-retry").classList.toggle("waiting", waiting);
}

/** The browser answered, or camera mode was left (the start cancelled): the waiting look and words
 * go, wherever they are. Those held for a dialog are dropped; those on the line are cleared, with a
 * rewrite still to come (a press just before the answer repeated them); newer words stay. */
function endWaiting() {
  if (camera.asking) return; // a newer start is still waiting
  clearTimeout(waitingTimer);
  for (const id of ["camera-start", "camera-retry"]) $(id).classList.remove("asking");
  showWaiting(false);
  if (state.heldMoodNews && state.heldMoodNews.text === WAITING_WORDS) state.heldMoodNews = null;
  if (!waitingOnLine) return;
  waitingOnLine = false;
  say($("mood-announce"), "");
}

async function startCamera(event) {
  // One ask at a time: a second press while the browser asks ("nothing happened") asked it again,
  // and the first answer's stream was opened only to be closed (the camera's light on and off, the
  // picture later). The press is answered with words instead.
  if (camera.asking) {
    sayWaiting();
    return;
  }
  event.currentTarget.classList.add("asking");
  clearTimeout(waitingTimer);
  // Not again when a second press has said it already.
  waitingTimer = setTimeout(() => waitingOnLine || sayWaiting(), WAITING_WORDS_MS);
  // The reader may still load for a second or two after the camera shows (on-device mode): focus
  // goes to "Stop camera" as soon as it is on screen (onStage), and is not taken back later.
  const wordsBefore = $("camera-problem-text").getBoundingClientRect().height;
  const wasHeld = $("panel-camera").closest(".card").classList.contains("held");
  const roomLater = makeRoomForPress();
  startsPending += 1;
  let started;
  try {
    started = await camera.start();
  } finally {
    startsPending -= 1;
    clearTimeout(roomLater);
    endWaiting();
  }
  // A lost camera's card is let go once the picture is back in the place kept for it (not at the
  // press: the card would shrink, then grow again). null: camera mode was left meanwhile, and
  // selectTab let go.
  if (started && wasHeld) releasePlacesOfTheCamera();
  else settleRoomMadeAtPress(started);
  if (started === false) keepHoldingAfterFailedTry(wordsBefore);
  if (started) focusIfLost($("camera-stop"));
  else if (started === false) focusIfLost($("camera-problem-text"));
  // null: camera mode was left while the browser asked; focus is wherever the person took it.
}

/** "Try the camera again" failed: a card still held keeps its height until the person's next press
 * or key, and its explanation the height it had (`wordsBefore`, px), the buttons under it where
 * they were. Let go when the try ended, as before, it moved the page long after the press (a
 * browser's permission prompt, a camera slow to say it is busy): a layout shift no input explains
 * (0.015 at 390×844, the list 24 px down; 0.19 at 1280×900), and the shorter "in use" words moved
 * the buttons 24 px up. A card not held (let go earlier) has nothing to keep. */
function keepHoldingAfterFailedTry(wordsBefore) {
  if (!$("panel-camera").closest(".card").classList.contains("held")) {
    releasePlacesOfTheCamera();
    return;
  }
  $("camera-problem-text").style.minHeight = `${wordsBefore}px`;
  listenForFirstInput();
}

function stopCamera() {
  camera.stop();
  // The start may still be waiting on the picture's play() or the reader (on-device mode), seconds
  // after the picture showed: its waiting look must not come back with the intro.
  endWaiting();
  $("camera-start").focus();
}

// ---- start-up ----------------------------------------------------------------------------------

function emotionButtons() {
  $("emotion-buttons").replaceChildren(
    ...state.emotions.map((emotion) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `btn emotion emo-${emotion}`;
      button.dataset.emotion = emotion;
      button.setAttribute("aria-pressed", "false");
      button.textContent = emotionWord(emotion);
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
      option.textContent = emotionWord(emotion);
      return option;
    }),
  );
}

const settler = new MoodSettler();
const announcer = new Announcer(sayMood, announceWords);
const steadyWord = new SteadyWord();
const plane = new MoodPlane(
  $("plane"),
  state.points,
  (mood) => applyMood(mood, "manual"),
  (text) => ($("plane-status").textContent = text),
);
const timeline = new Timeline($("timeline"), $("timeline-summary"));
const list = new ListView({
  onError: reportError,
  onShown: () => banner(""),
  onReverted: () => showListMood(),
  pointsFor: (emotion) => state.points[emotion],
  applyMood,
  setPath: (path) => plane.setPath(path),
});
const camera = new LiveCamera(
  {
    intro: $("camera-intro"),
    problem: $("camera-problem"),
    problemText: $("camera-problem-text"),
    stage: $("camera-stage"),
    video: $("video"),
    overlay: $("camera-overlay"),
    note: $("camera-note"),
    rate: $("camera-rate"),
    news: $("camera-news"),
    pause: $("pause-live"),
  },
  {
    onFrame: onCameraFrame,
    onError: (err, waitMs) => {
      // The same words for every retry (the wait grows to 10 s): an alert that changed each time
      // would interrupt a screen reader again and again with the same news.
      if (err.unreachable) {
        outage(err, { retrying: true });
        cameraStalled();
      } else {
        state.refusedSince ??= performance.now();
        if (state.liveMood && performance.now() - state.refusedSince > STALE_READING_MS) cameraStalled(refusalWords(err));
        else camera.writeStats(refusalWords(err));
      }
    },
    onRecover: () => banner(""),
    onStage: () => {
      // A camera that answered before the room was made (QUICK_ANSWER_MS): its places are taken
      // now, with the picture, inside the press's half second; the reader may take seconds more.
      reserveCameraPlaces();
      roomFor.stats();
      // The picture is on screen: the room made at the press is settled now, not when the start
      // ends. The start waits for the picture to play (over a second on a loaded machine), and a
      // key pressed meanwhile, after the picture showed, was not taken as the person's input: the
      // card kept its room (727 px at 1280×900) until yet another key. A held card (a lost camera
      // tried again) is let go when the start ends, as before (startCamera).
      if (!$("panel-camera").closest(".card").classList.contains("held")) settleRoomMadeAtPress(true);
      // The browser has answered: the wait is over now, not when the reader is ready (seconds later,
      // after "Stop camera" may have brought the intro back with the waiting words still on it).
      endWaiting();
      focusIfLost($("camera-stop"));
    },
    // The camera's own controls, the list's "Stop" and the offer are gone: focus goes to the reason.
    onLosing: holdCameraCard, // measured while the picture is still there
    onLost: () => {
      // onStopped let the offer's place go: it is kept too until the person chooses what next.
      $("new-list").classList.add("reserved");
      $("results-camera").classList.add("reserved");
      focusIfLost($("camera-problem-text"));
    },
    onStarted: () => {
      announcer.reset();
      sayMood(""); // a "Camera off." from before must not stay while the camera is on
      $("results-camera").hidden = false;
      reserveCameraPlaces(); // taken at the press or with the picture already (onStage)
      rememberPictureRatio();
      showFollowSwitch(); // a list made before the camera started does not follow it by itself
      showReadout();
    },
    onStopped: () => {
      state.liveMood = null;
      state.refusedSince = null;
      resetCameraRetry();
      announcer.reset();
      steadyWord.reset();
      plane.setLive(null);
      hideOffer();
      $("follow-camera").hidden = true;
      $("results-camera").hidden = true;
      $("results-camera").classList.remove("reserved");
      $("new-list").classList.remove("reserved");
      sayMood("");
      showReadout();
      showMoodNow();
    },
  },
);

function setupCamera() {
  // Start and Stop hand focus to each other: a held Enter must not turn the camera on and off again
  // with every repeat (keyguard.js).
  for (const id of ["camera-start", "camera-retry", "camera-stop", "results-camera-stop", "follow-camera"]) guardPresses($(id));
  $("camera-start").addEventListener("click", startCamera);
  $("camera-retry").addEventListener("click", startCamera);
  $("camera-stop").addEventListener("click", stopCamera);
  $("results-camera-stop").addEventListener("click", stopCamera);
  $("pause-live").addEventListener("click", () => {
    camera.setPaused(!camera.paused);
    announcer.restart(); // resumed: a mood said before the pause is not said again unless it changed
    showMoodNow();
  });
  $("follow-camera").addEventListener("click", followFaceAgain);
  // An offer kept while in use (keepOffer, withdrawOffer) goes once focus and the pointer have left
  // it: withdrawn, or replaced by the offer for the mood the face went on to meanwhile.
  const leftOffer = () => {
    if (!state.offerStale || offerInUse()) return;
    if (state.offerNext) offer(state.offerNext, performance.now());
    else hideOffer();
  };
  for (const name of ["focusout", "mouseleave"]) {
    $("new-list").addEventListener(name, () => setTimeout(leftOffer));
  }
  // Whose :hover offerInUse may count: a touch or a pen after the mouse may have left it on the offer.
  for (const name of ["pointerover", "pointerdown"]) {
    document.addEventListener(
      name,
      (event) => {
        const wasMouse = state.pointerType === "mouse";
        state.pointerType = event.pointerType;
        if (wasMouse && event.pointerType !== "mouse") setTimeout(leftOffer);
      },
      { capture: true, passive: true },
    );
  }
  $("new-list-show").addEventListener("click", () => {
    if (state.offered) applyMood(state.offered, "camera", { focusList: true });
  });
}

async function start() {
  const syncStates = mirrorStates([
    ["offer-shown", $("new-list"), ".offer.reserved:not([hidden])"],
    ["player-shown", $("mini-player"), ":not([hidden])"],
    ["camera-shown", $("camera-stage"), ":not([hidden])"],
    ["camera-tab", $("tab-camera"), '[aria-selected="true"]'],
  ]);
  // A bar too tall for the screen is capped first: the heights measured next are the capped ones.
  const capBar = markTall($("mini-player"));
  // Each height is written where style.css reads it: the bar's also on the offer, which stands above it.
  const pageEnds = [document.documentElement, document.body];
  const measureHeights = trackFootHeights([
    ["mini", $("mini-player"), [...pageEnds, $("new-list")]],
    ["offer", $("new-list"), pageEnds],
  ]);
  // The scroll padding that uncoverFocus scrolls by needs the offer's class now, not a microtask later.
  measureFoot = () => {
    syncStates();
    capBar();
    measureHeights();
  };
  keepRoomForCameraWords();
  // "close" does not bubble: heard while it passes the document, for whichever dialog closed.
  document.addEventListener("close", sayHeldMoodNews, true);
  document.addEventListener(
    "close",
    () => {
      const held = heldConnection;
      if (held) setTimeout(() => heldConnection === held && sayConnection(held));
    },
    true,
  );
  watchCameraPermission(); // not awaited: the page does not wait on it
  setupTabs();
  setupCamera();
  list.setup();
  try {
    const config = await api.getConfig();
    if (Array.isArray(config.emotions) && config.emotions.length) state.emotions = config.emotions;
    if (config.emotion_points) {
      state.points = config.emotion_points;
      plane.setPoints(state.points);
    }
  } catch (err) {
    reportError(err);
  }
  emotionButtons();
  showReadout();

  photo = setupPhoto({
    input: $("photo-input"),
    chooser: $("photo-choose"),
    dropzone: $("panel-photo"),
    stage: $("photo-stage"),
    img: $("photo"),
    overlay: $("photo-overlay"),
    message: $("photo-message"),
    onAnalysed: (result) => {
      state.photoResult = result;
      $("photo-way-out").hidden = result.faces.length > 0;
      showReadout();
      if (result.mood) applyMood(result.mood, "photo");
    },
    onFailed: (err) => {
      state.photoResult = null;
      $("photo-way-out").hidden = false;
      showReadout();
      reportError(err);
    },
    // Pasted with focus on a camera control: leaving camera mode hides it, so focus goes to the
    // Photo tab, now selected, rather than to <body>.
    onPasted: () => {
      selectTab("photo");
      focusIfLost($("tab-photo"));
    },
  });

  setupHistory({
    openButton: $("history-open"),
    dialog: $("history-dialog"),
    list: $("history-list"),
    status: $("history-status"),
    deleteButton: $("history-delete"),
    confirmRow: $("history-confirm"),
    confirmButton: $("history-delete-yes"),
    keepButton: $("history-delete-no"),
    closeButton: $("history-close"),
    consentRow: $("history-consent-row"),
    consent: $("history-consent"),
    onError: reportError,
    onDeleted: () => {
      const shown = list.clear();
      hideOffer();
      resetCameraRetry();
      showListMood(); // no mood yet: a running camera makes the first list again by itself
      showMoodNow();
      return shown;
    },
    onOpen: async (listId, options) => {
      const focus = await list.reopen(listId, options);
      if (focus) {
        plane.setApplied(list.applied);
        markEmotion(null, null);
        showFollowSwitch();
        showMoodNow();
      }
      return focus;
    },
  });
  document.body.dataset.ready = "true";
}

start();
