// One recommendation list on screen: artwork, title, artist, reason, a way to play it, feedback.
// Players load only when the person presses Play, so a list of twelve costs no third-party requests.

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function hostLabel(url) {
  try {
    const host = new URL(url).hostname.replace(/^www\./, "");
    if (host.endsWith("deezer.com")) return "Deezer";
    if (host.endsWith("spotify.com")) return "Spotify";
    if (host.endsWith("youtube.com")) return "YouTube";
    return host;
  } catch {
    return "the web";
  }
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

function playerFrame(item) {
  const frame = el("iframe", "player");
  const host = hostLabel(item.embed_url);
  frame.classList.add(`player-${host.toLowerCase()}`);
  frame.src = item.embed_url;
  frame.title = `${host} player: ${item.title} by ${item.artist}`;
  frame.allow = "autoplay; clipboard-write; encrypted-media; fullscreen; picture-in-picture";
  frame.setAttribute("allowfullscreen", "");
  frame.loading = "lazy";
  return frame;
}

/** The way to play one item: Play button (embed on demand), a 30-s preview, or a link. */
function playArea(item) {
  const area = el("div", "play");
  if (item.embed_url) {
    const button = el("button", "btn play-btn", "Play");
    button.type = "button";
    button.setAttribute("aria-label", `Play ${item.title} by ${item.artist} (loads the ${hostLabel(item.embed_url)} player)`);
    button.addEventListener("click", () => {
      const frame = playerFrame(item);
      area.replaceChildren(frame);
      frame.focus();
    });
    area.append(button);
  } else if (item.preview_url) {
    const audio = el("audio", "preview");
    audio.controls = true;
    audio.preload = "none";
    audio.src = item.preview_url;
    audio.setAttribute("aria-label", `30-second preview of ${item.title}`);
    area.append(audio);
  }
  if (item.url) {
    const label = isSearch(item.url) ? `Search on ${hostLabel(item.url)}` : `Open on ${hostLabel(item.url)}`;
    const link = el("a", "link", label);
    link.href = item.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.setAttribute("aria-label", `${label}: ${item.title} (opens in a new tab)`);
    area.append(link);
  }
  return area;
}

const ACTIONS = [
  ["like", "Like"],
  ["skip", "Skip"],
  ["dislike", "Dislike"],
];

function feedbackButtons(item, onFeedback) {
  const group = el("div", "feedback");
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", `Feedback on ${item.title}`);
  for (const [action, label] of ACTIONS) {
    const button = el("button", `btn small fb-${action}`, label);
    button.type = "button";
    button.dataset.action = action;
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", async () => {
      for (const b of group.querySelectorAll("button")) b.disabled = true;
      const ok = await onFeedback(action, item);
      for (const b of group.querySelectorAll("button")) {
        b.disabled = false;
        b.setAttribute("aria-pressed", String(ok && b === button));
      }
      if (ok) group.closest(".item").dataset.feedback = action;
    });
    group.append(button);
  }
  return group;
}

function renderItem(item, index, onFeedback) {
  const li = el("li", "item");
  li.dataset.key = item.key || "";
  const text = el("div", "text");
  const title = el("h3", "title", item.title);
  const artist = el("p", "artist", item.artist);
  const reason = el("p", "reason", item.reason);
  const meta = el("p", "meta");
  const parts = [item.source, item.genre || item.category].filter(Boolean);
  meta.textContent = `${index + 1} · ${parts.join(" · ")}`;
  text.append(title, artist, reason, meta);
  li.append(artwork(item), text, playArea(item), feedbackButtons(item, onFeedback));
  return li;
}

/**
 * Draw a /api/recommendations answer into `list`.
 * @param onFeedback (action, item) → Promise<boolean>  true when the server accepted it
 */
export function renderResults(list, data, onFeedback) {
  list.replaceChildren(...data.items.map((item, i) => renderItem(item, i, onFeedback)));
}

/** "From the built-in catalog" plus why a live source was not used, in words. */
export function describeSources(data) {
  const names = { catalog: "the built-in catalog", spotify: "Spotify", youtube: "YouTube", itunes: "iTunes", deezer: "Deezer" };
  const sources = (data.sources || []).map((s) => names[s] || s);
  return sources.length ? `From ${sources.join(", ")}.` : "";
}
