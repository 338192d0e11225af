// Playing: an embedded player that says so when it cannot load, and one small preview player
// that stays put at the bottom of the page while the list changes under it.

import { say } from "./say.js";

/** How long the reachability check of a player's host may take before we call it unreachable. */
const PROBE_MS = 6000;

export function hostLabel(url) {
  try {
    const host = new URL(url).hostname.replace(/^www\./, "");
    if (host.endsWith("deezer.com")) return "Deezer";
    if (host.endsWith("spotify.com")) return "Spotify";
    if (host.endsWith("youtube.com") || host.endsWith("youtube-nocookie.com")) return "YouTube";
    return host;
  } catch {
    return "the web";
  }
}

/**
 * True when the player's host answers at all. A failed iframe shows the browser's broken-page
 * icon and still fires "load", so the page cannot tell from the frame; an opaque (no-cors) request
 * to the same address can: it rejects when the host is unreachable or blocked.
 */
export async function reachable(url) {
  try {
    await fetch(url, { mode: "no-cors", cache: "no-store", credentials: "omit", signal: AbortSignal.timeout(PROBE_MS) });
    return true;
  } catch {
    return false;
  }
}

function playerFrame(item, host) {
  const frame = document.createElement("iframe");
  frame.className = `player player-${host.toLowerCase()}`;
  frame.src = item.embed_url;
  frame.title = `${host} player: ${item.title} by ${item.artist}`;
  frame.allow = "autoplay; clipboard-write; encrypted-media; fullscreen; picture-in-picture";
  frame.setAttribute("allowfullscreen", "");
  return frame;
}

/** The latest player news that came while a modal dialog was open ({status, text}), or null. */
let heldNews = null;
/** Whether the listener that says held news when a dialog closes is in place (added once, lazily). */
let listeningForClose = false;

/**
 * Write a player's news in the item's line (`status`, for the eyes) and say it in the page's own
 * line (`#player-news`, outside the list). The list is aria-busy while a new one loads, and a screen
 * reader may hold back what changes inside a busy element (WAI-ARIA; NVDA and JAWS do): a Play
 * pressed meanwhile had "Loading the Deezer player…" written where it could go unheard.
 */
function sayPlayerNews(status, text, error = false) {
  status.textContent = text;
  status.classList.toggle("error", error);
  speakOrHold(status, text);
}

/**
 * Say `text` in `#player-news`. While a modal dialog (History) is open the rest of the page is
 * inert, out of a screen reader's reach: a line written then would never be heard, so the latest
 * one waits for the dialog to close, as the mood's and the connection's news do (app.js).
 */
function speakOrHold(status, text) {
  if (document.querySelector(":modal")) {
    heldNews = { status, text };
    if (!listeningForClose) {
      // "close" does not bubble: heard while it passes the document, for whichever dialog closed.
      document.addEventListener("close", sayHeldNews, true);
      listeningForClose = true;
    }
    return;
  }
  heldNews = null;
  say(document.getElementById("player-news"), text);
}

/** A dialog closed: say the held line a task later, once focus is back on the page, unless newer
 * news came meanwhile or its item has left the page (a list shown from History replaced it). */
function sayHeldNews() {
  const held = heldNews;
  if (!held) return;
  setTimeout(() => {
    if (heldNews !== held) return;
    heldNews = null;
    if (held.status.isConnected) speakOrHold(held.status, held.text);
  });
}

/**
 * Replace `button` by the item's embedded player, or by a sentence saying why it cannot load.
 * `status` is a short message next to it; the "Open on …" link in the same area stays. Nothing is
 * said for an item that a new list replaced while its host was being checked.
 */
export async function embedPlayer(item, button, status) {
  const host = hostLabel(item.embed_url);
  button.setAttribute("aria-disabled", "true");
  sayPlayerNews(status, `Loading the ${host} player…`);
  const ok = await reachable(item.embed_url);
  if (!button.isConnected) return null;
  if (!ok) {
    button.removeAttribute("aria-disabled");
    sayPlayerNews(status, `The ${host} player can't load: this device seems to be offline, or ${host} is blocked here.`, true);
    return null;
  }
  const frame = playerFrame(item, host);
  button.replaceWith(frame);
  sayPlayerNews(status, `${host} player loaded.`);
  frame.focus();
  return frame;
}

/** The one 30-second preview player (an <audio> in a small bar that stays at the bottom), with
 * "Previous preview" and "Next preview" to step through the list on screen without leaving the bar.
 *
 * A preview that ends stays ended: the next one plays only on a press. Nothing on the page makes
 * sound by itself (the players load and the previews play on a press), and a track starting on its
 * own would talk over a screen reader; the bar says what Next would play instead. */
export class PreviewPlayer {
  /**
   * @param els {bar, title, audio, status, link, close, previous, next, previousWhat, nextWhat}
   *   previousWhat, nextWhat: (visually hidden) descriptions of the two steps: the track they play
   * @param where {remember(button) → place, restore(place) → bool, near(place, step) → {item, button}
   *   | null}: where the button that opened the preview is; focus put back on the same place once
   *   that button is gone (the list changed); the item with a preview `step` (±1) items away from
   *   `place` in the list on screen, and its Preview button
   */
  constructor(els, { remember = () => null, restore = () => false, near = () => null } = {}) {
    this.els = els;
    this.where = { remember, restore, near };
    this.returnFocus = null;
    this.returnPlace = null;
    els.audio.addEventListener("error", () => {
      if (!els.audio.getAttribute("src")) return;
      this.tell("The preview can't load: this device seems to be offline, or the preview is blocked.", true);
    });
    this.keepFocusInBar();
    els.audio.addEventListener("playing", () => this.tell(""));
    els.audio.addEventListener("ended", () => this.ended());
    els.close.addEventListener("click", () => this.close());
    // Escape closes the bar from its buttons and the audio element (not from inside the browser's
    // own audio controls: Chromium keeps Escape there, and no page listener sees it), focus back on
    // the Preview button that opened it, as Escape does for "Not my mood" and History; before, it
    // did nothing.
    els.bar.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || event.defaultPrevented || els.bar.hidden) return;
      event.preventDefault();
      this.close();
    });
    els.previous.addEventListener("click", () => this.step(-1));
    els.next.addEventListener("click", () => this.step(1));
  }

  /**
   * Focus inside the audio's own controls when a preview fails to load (offline, blocked) went to
   * the page body: Chromium hides the controls it had for a playable track and lets their focus go,
   * a few milliseconds after the "error" event. Focus that leaves the audio for nothing while the
   * page has it, with no pointer pressed (a click on the page's background moves it there on purpose),
   * goes back to the audio, else to Close, as soon as the browser has put it on the body.
   */
  keepFocusInBar() {
    const { audio, bar, close } = this.els;
    let pointing = false;
    document.addEventListener(
      "pointerdown",
      () => {
        pointing = true;
        setTimeout(() => (pointing = false));
      },
      true,
    );
    audio.addEventListener("focusout", (event) => {
      if (event.relatedTarget || pointing || bar.hidden || !document.hasFocus()) return;
      setTimeout(() => {
        const lost = document.activeElement === document.body || document.activeElement === null;
        if (!lost || bar.hidden) return;
        audio.focus();
        if (document.activeElement !== audio) close.focus();
      });
    });
  }

  /** Write the bar's status line (a live region); `error` words are shown as a problem. */
  tell(text, error = false) {
    const { status } = this.els;
    status.textContent = text;
    status.classList.toggle("error", error);
  }

  /**
   * Play `item`'s preview. `from` is its Preview button in the list. Focus goes to the audio's
   * controls when opened from the list; Previous and Next keep it on themselves (`focus` false).
   */
  play(item, from, { focus = true } = {}) {
    const { bar, title, audio, link } = this.els;
    this.returnFocus = from;
    this.returnPlace = this.where.remember(from);
    title.textContent = `${item.title} — ${item.artist}`;
    this.tell("");
    link.hidden = !item.url;
    if (item.url) {
      link.href = item.url;
      link.textContent = `Open on ${hostLabel(item.url)}`;
    }
    bar.hidden = false;
    audio.src = item.preview_url;
    audio.play().catch(() => {
      // The error event says why; a rejected play() alone (autoplay policy) needs the controls.
    });
    this.refresh();
    if (focus) audio.focus();
  }

  /** Previous (-1) or Next (+1): the neighbouring preview of the list on screen, from the place of
   * the one playing (the same index when the list changed under the bar). */
  step(direction) {
    const button = direction < 0 ? this.els.previous : this.els.next;
    if (button.getAttribute("aria-disabled") === "true") return;
    const next = this.where.near(this.returnPlace, direction);
    if (next) this.play(next.item, next.button, { focus: false });
  }

  /** Say what Previous and Next would play, and mark one with nothing to play as unavailable
   * (aria-disabled, not disabled: a disabled button drops keyboard focus to <body>). Called on every
   * preview and whenever the list under the bar changes. */
  refresh() {
    if (this.els.bar.hidden) return;
    const sides = [
      [this.els.previous, this.els.previousWhat, -1, "none: this is the list's first preview"],
      [this.els.next, this.els.nextWhat, 1, "none: this is the list's last preview"],
    ];
    for (const [button, what, direction, none] of sides) {
      const near = this.where.near(this.returnPlace, direction);
      button.setAttribute("aria-disabled", String(!near));
      what.textContent = near ? `${near.item.title} by ${near.item.artist}` : none;
    }
  }

  /** The 30 seconds are over: nothing else starts; the bar says what Next would play. */
  ended() {
    const next = this.where.near(this.returnPlace, 1);
    this.tell(next ? `Preview ended. Next preview: ${next.item.title}.` : "Preview ended: it was the list's last one.");
  }

  close() {
    const { bar, audio } = this.els;
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
    bar.hidden = true;
    if (this.returnFocus && this.returnFocus.isConnected) this.returnFocus.focus();
    else if (!this.where.restore(this.returnPlace)) document.getElementById("results").focus();
  }
}
