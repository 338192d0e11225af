// The list card: loads the list for a mood, draws it, and handles everything done to it (strategy,
// kind, Like/Skip/Dislike, "Not my mood", export links, previews). It also decides where keyboard
// focus lands when the list changes, so focus never falls to <body>.

import * as api from "./api.js";
import { focusItem, setupListKeys } from "./listnav.js";
import { PreviewPlayer } from "./player.js";
import { describeSources, renderResults } from "./results.js";
import { STRATEGY_WORDS, emotionWord, moodLine, moodNumbers } from "./words.js";

const $ = (id) => document.getElementById(id);
const SOURCE_WORDS = { camera: "the camera", photo: "your photo", manual: "your choice" };

function setPressed(group, attr, value) {
  for (const button of group.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset[attr] === value));
  }
}

/** The index of the list item holding `el`, or -1. */
function itemIndex(el) {
  const item = el && el.closest ? el.closest("#result-list > li") : null;
  return item ? [...item.parentElement.children].indexOf(item) : -1;
}

export class ListView {
  /** @param hooks {onError(err), onShown(), pointsFor(emotion), applyMood(mood, source, opts), setPath(path)} */
  constructor(hooks) {
    this.hooks = hooks;
    /** The mood the list is made for: {valence, arousal, emotion, emotionOnly?}; null before the first. */
    this.applied = null;
    /** Where that mood came from: "camera", "photo", "manual", or null. */
    this.source = null;
    this.strategy = "";
    this.kind = "tracks";
    this.controller = null;
  }

  setup() {
    setupListKeys($("result-list"));
    this.preview = new PreviewPlayer({
      bar: $("mini-player"),
      title: $("mini-title"),
      audio: $("mini-audio"),
      status: $("mini-status"),
      link: $("mini-link"),
      close: $("mini-close"),
    });
    $("strategy-group").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-strategy]");
      if (!button) return;
      this.strategy = button.dataset.strategy;
      setPressed($("strategy-group"), "strategy", this.strategy);
      this.explainStrategy(null);
      this.load();
    });
    $("kind-group").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-kind]");
      if (!button) return;
      this.kind = button.dataset.kind;
      setPressed($("kind-group"), "kind", this.kind);
      this.load();
    });
    this.explainStrategy(null);
    this.setupNotMine();
  }

  explainStrategy(chosen) {
    // Auto names what it chose and why in one line: "Auto chose Match: stays where your mood is."
    const text = !this.strategy && chosen ? `Auto chose ${STRATEGY_WORDS[chosen] || chosen}` : STRATEGY_WORDS[this.strategy];
    $("strategy-explain").textContent = text || "";
  }

  params() {
    return api.listParams({ mood: this.applied, strategy: this.strategy, kind: this.kind });
  }

  /** Make `mood` the list's mood; show `preloaded` or fetch the list. */
  async show(mood, source, { preloaded = null, focusList = false } = {}) {
    this.applied = mood;
    this.source = source;
    if (preloaded) {
      this.draw(preloaded, this.params());
      if (focusList) focusItem($("result-list"), 0);
      return;
    }
    await this.load({ focusIndex: focusList ? 0 : null });
  }

  /** Fetch and draw the list; `focusIndex` puts focus on that item afterwards. */
  async load({ focusIndex = null } = {}) {
    if (!this.applied) return;
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    const params = this.params();
    // Focus inside the list survives the swap: it goes to the same place in the new list.
    const inside = itemIndex(document.activeElement);
    $("results-status").textContent = "Finding music for this mood…";
    $("results").setAttribute("aria-busy", "true");
    try {
      const data = await api.recommendations(params, { signal: controller.signal });
      this.draw(data, params);
      const index = focusIndex ?? (inside >= 0 ? inside : null);
      if (index !== null && !focusItem($("result-list"), index)) $("results").focus();
      this.hooks.onShown();
    } catch (err) {
      if (err.name === "AbortError") return;
      $("results-status").textContent = err.message;
      this.hooks.onError(err);
    } finally {
      if (this.controller === controller) {
        this.controller = null;
        $("results").removeAttribute("aria-busy");
      }
    }
  }

  draw(data, params) {
    renderResults($("result-list"), data, {
      onFeedback: (action, item, button) => this.feedback(action, item, button),
      onPreview: (item, button) => this.preview.play(item, button),
    });
    const empty = $("results-empty");
    empty.hidden = data.items.length > 0;
    if (!data.items.length) empty.textContent = "Nothing in the catalog fits this mood and choice.";
    $("list-keys").hidden = !data.items.length;
    const what = data.kind === "videos" ? "videos" : "tracks";
    $("results-status").textContent = `${data.items.length} ${what}, strategy ${data.strategy}.`;
    const numbers = document.createElement("span");
    numbers.className = "numbers";
    numbers.textContent = ` (${moodNumbers(data.mood)})`;
    const from = SOURCE_WORDS[this.source] || "you";
    $("results-mood").replaceChildren(`Made for ${moodLine(data.mood)}, from ${from}`, numbers);
    this.explainStrategy(data.strategy);
    $("offline-badge").hidden = !data.offline;
    $("offline-note").hidden = !data.offline;
    $("sources").textContent = describeSources(data);
    $("fallbacks").replaceChildren(
      ...[...(data.fallback_reasons || []), ...(data.notes || [])].map((reason) => {
        const li = document.createElement("li");
        li.textContent = reason;
        return li;
      }),
    );
    for (const format of ["m3u8", "xspf", "csv"]) $(`export-${format}`).href = api.exportUrl(params, format);
    $("results-foot").hidden = false;
    $("not-mine").hidden = false;
    this.hooks.setPath(data.path);
  }

  /** Like, Skip or Dislike one item; focus stays on the pressed button, or its row after a Dislike. */
  async feedback(action, item, button) {
    const index = itemIndex(button);
    try {
      await api.sendFeedback({ action, key: item.key, artist: item.artist, genre: item.genre || null });
      const words = { like: "Liked", skip: "Skipped", dislike: "Disliked" }[action];
      $("results-status").textContent = `${words} “${item.title}”. Thanks — moodtape will take it into account.`;
      // Seam for saved lists (issue 11): when the server answers a Dislike with one replacement
      // row, only that row should change; until then the list is fetched again and focus goes
      // back to the same row.
      if (action === "dislike") await this.load({ focusIndex: index });
      return true;
    } catch (err) {
      $("results-status").textContent = `Feedback not saved: ${err.message}`;
      this.hooks.onError(err);
      return false;
    }
  }

  setupNotMine() {
    const form = $("not-mine-form");
    const open = $("not-mine-open");
    const close = () => {
      form.hidden = true;
      open.setAttribute("aria-expanded", "false");
    };
    open.addEventListener("click", () => {
      form.hidden = !form.hidden;
      open.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) $("not-mine-select").focus();
    });
    form.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      close();
      open.focus();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const corrected = $("not-mine-select").value;
      const detected = this.applied ? this.applied.emotion : null;
      try {
        const answer = await api.sendFeedback({
          action: "not_my_mood",
          detected,
          corrected,
          strategy: this.strategy || null,
          kind: this.kind,
          n: api.LIST_LENGTH,
        });
        const [v, a] = this.hooks.pointsFor(corrected);
        const mood = answer.mood || { valence: v, arousal: a, emotion: corrected };
        close();
        // The server answers with the list for the corrected mood: no second request needed.
        await this.hooks.applyMood({ ...mood, emotion: corrected, emotionOnly: true }, "manual", {
          preloaded: answer.recommendations || null,
          focusList: true,
        });
        $("results-status").textContent =
          `Thanks. Using “${emotionWord(corrected)}” instead of “${emotionWord(detected)}”.`;
      } catch (err) {
        $("results-status").textContent = `Not saved: ${err.message}`;
        this.hooks.onError(err);
      }
    });
  }
}
