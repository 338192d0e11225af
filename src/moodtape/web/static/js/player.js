// Playing: an embedded player that says so when it cannot load, and one small preview player
// that stays put at the bottom of the page while the list changes under it.

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

/**
 * Replace `button` by the item's embedded player, or by a sentence saying why it cannot load.
 * `status` is a short live message next to it; the "Open on …" link in the same area stays.
 */
export async function embedPlayer(item, button, status) {
  const host = hostLabel(item.embed_url);
  button.setAttribute("aria-disabled", "true");
  status.textContent = `Loading the ${host} player…`;
  if (!(await reachable(item.embed_url))) {
    button.removeAttribute("aria-disabled");
    status.textContent = `The ${host} player can't load: this device seems to be offline, or ${host} is blocked here.`;
    status.classList.add("error");
    return null;
  }
  const frame = playerFrame(item, host);
  button.replaceWith(frame);
  status.textContent = `${host} player loaded.`;
  status.classList.remove("error");
  frame.focus();
  return frame;
}

/** The one 30-second preview player (an <audio> in a small bar that stays at the bottom). */
export class PreviewPlayer {
  /**
   * @param els {bar, title, audio, status, link, close}
   * @param where {remember(button) → place, restore(place) → bool}: where the button that opened the
   *   preview is, and focus put back on the same place once that button is gone (the list changed)
   */
  constructor(els, { remember = () => null, restore = () => false } = {}) {
    this.els = els;
    this.where = { remember, restore };
    this.returnFocus = null;
    this.returnPlace = null;
    els.audio.addEventListener("error", () => {
      if (!els.audio.getAttribute("src")) return;
      els.status.textContent = "The preview can't load: this device seems to be offline, or the preview is blocked.";
    });
    els.audio.addEventListener("playing", () => (els.status.textContent = ""));
    els.close.addEventListener("click", () => this.close());
  }

  play(item, from) {
    const { bar, title, audio, status, link } = this.els;
    this.returnFocus = from;
    this.returnPlace = this.where.remember(from);
    title.textContent = `${item.title} — ${item.artist}`;
    status.textContent = "";
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
    audio.focus();
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
