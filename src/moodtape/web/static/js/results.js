// One recommendation list on screen: artwork, title, artist, reason, ways to play it, feedback.
// Players load only when the person presses Play, so a list of twelve costs no third-party requests.
// Every button and link of an item carries class "ctl": listnav.js gives each item one Tab stop.

import { setStop } from "./listnav.js";
import { embedPlayer, hostLabel } from "./player.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function isSearch(url) {
  return /[?&](search_query|q|term)=/.test(url) || /\/search\b/.test(url);
}

/** A tile when there is no artwork: colour from the item's own valence (hue) and energy (lightness). */
function placeholder(item) {
  const tile = el("div", "art placeholder");
  const hue = Math.round(220 - 180 * (item.valence ?? 0.5));
  const light = Math.round(34 + 22 * (item.energy ?? 0.5));
  tile.style.background = `linear-gradient(135deg, hsl(${hue} 55% ${light}%), hsl(${hue + 40} 60% ${light - 12}%))`;
  tile.textContent = (item.title || "?").trim().charAt(0).toUpperCase();
  tile.setAttribute("aria-hidden", "true");
  return tile;
}

function artwork(item) {
  const src = item.artwork_url || item.thumbnail_url;
  if (!src) return placeholder(item);
  const img = el("img", "art");
  img.src = src;
  img.alt = "";
  img.loading = "lazy";
  img.decoding = "async";
  img.addEventListener("error", () => img.replaceWith(placeholder(item)), { once: true });
  return img;
}

function button(className, text, label) {
  const b = el("button", `btn small ctl ${className}`, text);
  b.type = "button";
  if (label) b.setAttribute("aria-label", label);
  return b;
}

/** The ways to play one item: Play (embed on demand), a 30-s preview, and always the link. */
function playArea(item, onPreview) {
  const area = el("div", "play");
  // For the eyes: player.js says the same words outside the list, which may be aria-busy.
  const status = el("p", "play-status");
  if (item.embed_url) {
    const host = hostLabel(item.embed_url);
    const play = button("play-btn", "Play", `Play ${item.title} by ${item.artist} (loads the ${host} player)`);
    play.addEventListener("click", async () => {
      if (play.getAttribute("aria-disabled") === "true") return;
      const frame = await embedPlayer(item, play, status);
      // The Play button is gone: the item's Tab stop moves to its next control.
      if (frame) setStop(area.closest(".item"), null);
    });
    area.append(play);
  }
  if (item.preview_url) {
    const preview = button("preview-btn", "Preview", `30-second preview of ${item.title} by ${item.artist}`);
    preview.addEventListener("click", () => onPreview(item, preview));
    area.append(preview);
  }
  if (item.url) {
    const label = isSearch(item.url) ? `Search on ${hostLabel(item.url)}` : `Open on ${hostLabel(item.url)}`;
    const link = el("a", "btn small ghost link ctl", label);
    link.href = item.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.setAttribute("aria-label", `${label}: ${item.title} (opens in a new tab)`);
    area.append(link);
  }
  area.append(status);
  return area;
}

const ACTIONS = [
  ["like", "Like"],
  ["skip", "Skip"],
  ["dislike", "Dislike"],
];

/** Ids for the items' titles, unique on the page: a row put in place of a disliked one gets a new one. */
let titleIds = 0;

/** Like, Skip and Dislike on every item: the name stays one word, and the description (the item's
 * title, `titleId`) tells them apart in a screen reader's list of buttons (12 × "Like" before). */
function feedbackButtons(item, onFeedback, titleId) {
  const group = el("div", "feedback");
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", `Feedback on ${item.title}`);
  for (const [action, label] of ACTIONS) {
    const b = button(`fb-${action}`, label);
    b.setAttribute("aria-describedby", titleId);
    b.dataset.action = action;
    b.setAttribute("aria-pressed", "false");
    b.addEventListener("click", async () => {
      // aria-disabled, not disabled: a disabled button drops keyboard focus to <body>. The busy group
      // holds the three buttons only: a live region inside it could be held back by a screen reader.
      if (group.getAttribute("aria-busy") === "true") return;
      group.setAttribute("aria-busy", "true");
      const ok = await onFeedback(action, item, b);
      group.removeAttribute("aria-busy");
      if (!b.isConnected) return;
      for (const other of group.querySelectorAll("button")) other.setAttribute("aria-pressed", String(ok && other === b));
      if (ok) group.closest(".item").dataset.feedback = action;
    });
    group.append(b);
  }
  return group;
}

/** "In place of “X”, which you disliked. [Undo]" on a row that replaced a disliked one. */
function replacedNote(disliked, onUndo) {
  const note = el("p", "replaced-note", `In place of “${disliked.title}”, which you disliked. `);
  const undo = button("undo-btn", "Undo", `Undo: bring back “${disliked.title}”`);
  undo.addEventListener("click", () => onUndo(undo));
  note.append(undo);
  return note;
}

/**
 * One <li> for `item`, the `index`-th of the list (0-based); `disliked` is the item it replaced,
 * when it did (the row then offers Undo).
 */
export function renderItem(item, index, { onFeedback, onPreview, onUndo }, disliked = null) {
  const li = el("li", "item");
  li.dataset.key = item.key || "";
  const text = el("div", "text");
  const title = el("h3", "title", item.title);
  title.id = `item-title-${++titleIds}`;
  const artist = el("p", "artist", item.artist);
  const reason = el("p", "reason", item.reason);
  const meta = el("p", "meta");
  const parts = [item.source, item.genre || item.category].filter(Boolean);
  meta.textContent = `${index + 1} · ${parts.join(" · ")}`;
  text.append(title, artist, reason, meta);
  if (disliked) text.append(replacedNote(disliked, onUndo));
  li.append(artwork(item), text, playArea(item, onPreview), feedbackButtons(item, onFeedback, title.id));
  setStop(li, null);
  return li;
}

/**
 * Draw a list answer (/api/lists) into `list`.
 * @param handlers {onFeedback(action, item, button) → Promise<boolean>, onPreview(item, button), onUndo(button)}
 */
export function renderResults(list, data, handlers) {
  list.replaceChildren(...data.items.map((item, i) => renderItem(item, i, handlers)));
}

/** "From the built-in catalog" plus why a live source was not used, in words. */
export function describeSources(data) {
  const names = { catalog: "the built-in catalog", spotify: "Spotify", youtube: "YouTube", itunes: "iTunes", deezer: "Deezer" };
  const sources = (data.sources || []).map((s) => names[s] || s);
  return sources.length ? `From ${sources.join(", ")}.` : "";
}
