// The list card: loads the list for a mood, draws it, and handles everything done to it (strategy,
// kind, Like/Skip/Dislike, "Not my mood", export links, previews). It also decides where keyboard
// focus lands when the list changes, so focus never falls to <body>.

import * as api from "./api.js";
import { focusItem, setStop, setupListKeys, stopOf } from "./listnav.js";
import { PreviewPlayer } from "./player.js";
import { describeSources, renderItem, renderResults } from "./results.js";
import { say } from "./say.js";
import { STRATEGY_WORDS, emotionWord, moodLine, moodNumbers } from "./words.js";

const $ = (id) => document.getElementById(id);
const SOURCE_WORDS = { camera: "the camera", photo: "your photo", manual: "your choice", history: "your history" };
/** "Finding music for this mood…" is for a list that keeps the person waiting: written at once, it
 * was followed 50–80 ms later by the list's own line (the offline catalog's usual time), two lines in
 * the status region for one list, the first cut off; the camera's first list said both unasked. */
const BUSY_LINE_DELAY_MS = 1000;

function setPressed(group, attr, value) {
  for (const button of group.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset[attr] === value));
  }
}

/** Write the list's status line (a live region; see say.js). */
function status(text, options) {
  say($("results-status"), text, options);
}

/** Mark the list busy while it is being replaced, so that a screen reader does not read it half
 * built. The list alone, not its card: the card holds the status line, and a screen reader may hold
 * back what changes inside a busy element until it is no longer busy (WAI-ARIA; NVDA and JAWS do):
 * "Finding music…" went unsaid while it mattered, and the list's own line, written while the card
 * was still busy, came late or merged with it. */
function markListBusy(busy) {
  if (busy) $("result-list").setAttribute("aria-busy", "true");
  else $("result-list").removeAttribute("aria-busy");
}

/** The index of the list item holding `el`, or -1. */
function itemIndex(el) {
  const item = el && el.closest ? el.closest("#result-list > li") : null;
  return item ? [...item.parentElement.children].indexOf(item) : -1;
}

/** Classes every control of an item has; the others say which control it is (fb-like, preview-btn…). */
const COMMON = new Set(["btn", "small", "ghost", "ctl"]);

function kindOf(control) {
  return [...control.classList].filter((c) => !COMMON.has(c)).join(" ");
}

function controlsOf(item) {
  return [...item.querySelectorAll(".ctl")].filter((el) => !el.closest("[hidden]"));
}

/** Where `el` is in the list: its item's index, and which of the item's controls it is (by kind, and
 * by position for an item without that kind); null when outside the list. */
export function placeOf(el) {
  const index = itemIndex(el);
  if (index < 0) return null;
  const all = controlsOf(el.closest("#result-list > li"));
  return { index, kind: el.matches(".ctl") ? kindOf(el) : null, at: all.indexOf(el) };
}

/** Focus the same place (see {@link placeOf}) in the list now on screen: the same kind of control
 * in the item at that index (clamped), else the control at the same position, else the item's stop.
 * @returns whether something got focus */
export function focusPlace(list, place) {
  if (!place || !list.children.length) return false;
  const item = list.children[Math.max(0, Math.min(list.children.length - 1, place.index))];
  const all = controlsOf(item);
  const same = place.kind ? all.find((el) => kindOf(el) === place.kind) : null;
  const target = same || (place.at >= 0 ? all[Math.min(all.length - 1, place.at)] : null) || stopOf(item);
  if (!target) return false;
  setStop(item, target);
  target.focus();
  return true;
}

export class ListView {
  /**
   * @param hooks {onError(err), onShown(), onReverted() (a failed load put the list's mood back),
   *   pointsFor(emotion), applyMood(mood, source, opts), setPath(path)}
   */
  constructor(hooks) {
    this.hooks = hooks;
    /** The mood the list is made for: {valence, arousal, emotion, emotionOnly?}; null before the first. */
    this.applied = null;
    /** Where that mood came from: "camera", "photo", "manual", or null. */
    this.source = null;
    this.strategy = "";
    this.kind = "tracks";
    this.controller = null;
    /** The list on screen (an /api/lists answer): its list_id names it for feedback and export. */
    this.data = null;
    /** What the list on screen was made with ({mood, source, strategy, kind}); null before the first. */
    this.drawn = null;
    /** Why the latest load failed (an ApiError), or null once a load succeeds. */
    this.failure = null;
    /** The `kept_note` the status line last said (a list over the day's history budget), or null. */
    this.keptNoteSaid = null;
    /** How many lists have been asked for (load, reopen): an answer that carries a list (a
     * correction's) tells by it whether a newer one was asked for while it was on its way. */
    this.asked = 0;
  }

  handlers() {
    return {
      onFeedback: (action, item, button) => this.feedback(action, item, button),
      onPreview: (item, button) => this.preview.play(item, button),
      onUndo: (button) => this.undo(button),
    };
  }

  setup() {
    setupListKeys($("result-list"));
    this.preview = new PreviewPlayer(
      {
        bar: $("mini-player"),
        title: $("mini-title"),
        audio: $("mini-audio"),
        status: $("mini-status"),
        link: $("mini-link"),
        close: $("mini-close"),
        previous: $("mini-previous"),
        next: $("mini-next"),
        previousWhat: $("mini-previous-what"),
        nextWhat: $("mini-next-what"),
      },
      // Closed after the list changed (its Preview button gone): the same place in the new list.
      {
        remember: placeOf,
        restore: (place) => focusPlace($("result-list"), place),
        near: (place, step) => this.previewNear(place, step),
      },
    );
    $("strategy-group").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-strategy]");
      if (button) this.choose("strategy", button.dataset.strategy);
    });
    $("kind-group").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-kind]");
      if (button) this.choose("kind", button.dataset.kind);
    });
    this.explainStrategy(null);
    this.setupNotMine();
    // What the card says before any list, and again once the list is deleted (clear).
    this.emptyWords = $("results-empty").textContent;
  }

  /** Press a strategy or kind button and load its list (when it fails, see {@link load}). */
  async choose(what, value) {
    this[what] = value;
    setPressed($(`${what}-group`), what, value);
    if (what === "strategy") this.explainStrategy(null);
    await this.load();
  }

  /**
   * A list could not be loaded: the mood, strategy and kind go back to those of the list on screen,
   * so that the buttons, the plane and "Not my mood" always speak of what is shown (and the next
   * load is not made for a mood or choice that never showed).
   */
  backToDrawn() {
    const drawn = this.drawn;
    // The source only with the mood: "Follow the camera" (source null) survives a failed strategy.
    if (this.applied !== (drawn ? drawn.mood : null)) {
      this.applied = drawn ? drawn.mood : null;
      this.source = drawn ? drawn.source : null;
    }
    this.hooks.onReverted();
    if (!drawn) return; // nothing on screen: the buttons keep the choice for the first list
    this.strategy = drawn.strategy;
    this.kind = drawn.kind;
    setPressed($("strategy-group"), "strategy", this.strategy);
    setPressed($("kind-group"), "kind", this.kind);
    this.explainStrategy(this.data ? this.data.strategy : null);
  }

  explainStrategy(chosen) {
    // Auto names what it chose and why in one line: "Auto chose Match: stays where your mood is."
    const text = !this.strategy && chosen ? `Auto chose ${STRATEGY_WORDS[chosen] || chosen}` : STRATEGY_WORDS[this.strategy];
    $("strategy-explain").textContent = text || "";
  }

  params() {
    return api.listParams({ mood: this.applied, strategy: this.strategy, kind: this.kind });
  }

  /**
   * Make `mood` the list's mood; show `preloaded` or fetch the list.
   * @returns true when its list is on screen, false when it could not be loaded (the list's mood is
   *   the one on screen again), null when a newer load took over
   */
  async show(mood, source, { preloaded = null, focusList = false } = {}) {
    this.applied = mood;
    this.source = source;
    if (preloaded) {
      // A list still on its way was asked for before this one came: it must not replace it.
      if (this.controller) this.controller.abort();
      this.draw(preloaded, this.params());
      if (focusList) focusItem($("result-list"), 0);
      return true;
    }
    return this.load({ focusIndex: focusList ? 0 : null });
  }

  /**
   * Show a past list exactly as it was, and make its mood the list's mood. The list is asked for
   * from the History dialog: a failure is thrown for the dialog to say (the page behind it is inert),
   * and what the list is is said once the dialog has closed (by the function returned).
   * @param signal aborted when the person no longer wants it (the dialog closed): nothing changes
   * @returns a function that puts focus on its first item and says which list it is, or null when
   *   dropped (signal)
   */
  async reopen(listId, { signal = null } = {}) {
    let data;
    try {
      data = await api.getList(listId);
    } catch (err) {
      if (signal && signal.aborted) return null;
      this.hooks.onError(err);
      throw err;
    }
    if (signal && signal.aborted) return null;
    if (this.controller) this.controller.abort();
    this.asked += 1;
    this.applied = { ...data.mood };
    this.source = "history";
    this.kind = data.kind || this.kind;
    this.strategy = "";
    setPressed($("kind-group"), "kind", this.kind);
    setPressed($("strategy-group"), "strategy", this.strategy);
    this.draw(data, this.params());
    const line = `A list from your history: ${data.items.length} ${data.kind}.`;
    return () => {
      if (!focusItem($("result-list"), 0)) $("results").focus();
      status(line);
    };
  }

  /**
   * Fetch and draw the list; `focusIndex` puts focus on that item afterwards.
   * @returns true when drawn; false when it failed (then {@link backToDrawn}); null with no mood
   *   yet, or when a newer load took over (that one decides)
   */
  async load({ focusIndex = null } = {}) {
    if (!this.applied) return null;
    if (this.controller) this.controller.abort();
    this.asked += 1;
    const controller = new AbortController();
    this.controller = controller;
    const params = this.params();
    // Where the press that asked for this list left focus ("Show it"): `focusIndex` takes focus to
    // the list only if it is still there when the list comes.
    const pressed = document.activeElement;
    // The last line stays until this list's own: cleared here, a repeat of the same line ("12
    // tracks, strategy match.") went "" then the line within a frame, and was not read again.
    const busyLine = setTimeout(() => {
      if (this.controller === controller) status("Finding music for this mood…", { again: false });
    }, BUSY_LINE_DELAY_MS);
    markListBusy(true);
    try {
      const data = await api.showList(params, { signal: controller.signal });
      // Focus inside the list survives the swap: it goes to the same place in the new list (the
      // same control of the same item: Like stays Like). Where it is now, not when the load began:
      // the person may have tabbed into the old list meanwhile, or elsewhere, where it stays (a
      // keyboard user who went on from "Show it" to the strategies, or into the old list's second
      // item, was taken to the new list's first item when it came).
      const active = document.activeElement;
      const inside = placeOf(active);
      const stayed = active === pressed || !active || active === document.body || !active.isConnected;
      this.draw(data, params);
      if (focusIndex !== null && stayed) {
        if (!focusItem($("result-list"), focusIndex)) $("results").focus();
      } else if (inside && !focusPlace($("result-list"), inside)) $("results").focus();
      this.failure = null;
      this.hooks.onShown();
      return true;
    } catch (err) {
      // Superseded: an error read after the newer load began (the body of an error answer) too.
      if (err.name === "AbortError" || this.controller !== controller) return null;
      this.failure = err;
      this.backToDrawn();
      // The banner already says that the server is gone (an alert): this line says what it meant.
      status(err.unreachable ? "The list did not change: the server did not answer." : err.message);
      this.hooks.onError(err);
      return false;
    } finally {
      clearTimeout(busyLine);
      if (this.controller === controller) {
        this.controller = null;
        markListBusy(false);
      }
    }
  }

  draw(data, params) {
    this.data = data;
    this.drawn = { mood: this.applied, source: this.source, strategy: this.strategy, kind: this.kind };
    renderResults($("result-list"), data, this.handlers());
    const empty = $("results-empty");
    empty.hidden = data.items.length > 0;
    if (!data.items.length) empty.textContent = "Nothing in the catalog fits this mood and choice.";
    $("list-keys").hidden = !data.items.length;
    const what = data.kind === "videos" ? "videos" : "tracks";
    // A list made over the address's daily history budget is shown as usual, only not kept: the
    // status line says so once (and again once a kept list came between), not with every camera list.
    const keptNote = data.kept === false ? data.kept_note || "" : "";
    const line = `${data.items.length} ${what}, strategy ${data.strategy}.`;
    status(keptNote && keptNote !== this.keptNoteSaid ? `${line} ${keptNote}` : line);
    this.keptNoteSaid = data.kept === false ? keptNote : null;
    const numbers = document.createElement("span");
    numbers.className = "numbers";
    numbers.textContent = ` (${moodNumbers(data.mood)})`;
    const from = SOURCE_WORDS[this.source] || "you";
    $("results-mood").replaceChildren(`Made for ${moodLine(data.mood)}, from ${from}`, numbers);
    this.explainStrategy(data.strategy);
    $("offline-badge").hidden = !data.offline;
    $("offline-note").hidden = !data.offline;
    $("sources").textContent = describeSources(data);
    const notes = [...(data.fallback_reasons || []), ...(data.notes || []), ...(keptNote ? [keptNote] : [])];
    $("fallbacks").replaceChildren(
      ...notes.map((reason) => {
        const li = document.createElement("li");
        li.textContent = reason;
        return li;
      }),
    );
    this.exportLinks(params);
    $("results-foot").hidden = false;
    $("not-mine").hidden = false;
    this.hooks.setPath(data.path);
    this.preview.refresh(); // what its Previous and Next play now
  }

  /**
   * The list on screen was deleted on the server (History → Delete everything): its feedback and
   * export would only fail, so it goes, and the card is as it was before the first list. The
   * strategy and kind stay as chosen.
   * @returns whether a list was on screen
   */
  clear() {
    const loading = Boolean(this.controller);
    if (loading) {
      // A list asked for before the deletion: its "Finding music…" and busy state go with it.
      this.controller.abort();
      this.controller = null;
      markListBusy(false);
    }
    const shown = this.data !== null;
    this.applied = null;
    this.source = null;
    this.data = null;
    this.drawn = null;
    this.failure = null;
    $("result-list").replaceChildren();
    $("results-empty").textContent = this.emptyWords;
    $("results-empty").hidden = false;
    $("results-mood").replaceChildren();
    for (const id of ["list-keys", "results-foot", "not-mine", "not-mine-form", "offline-badge", "offline-note"]) {
      $(id).hidden = true;
    }
    $("not-mine-open").setAttribute("aria-expanded", "false");
    this.explainStrategy(null);
    this.hooks.setPath(null);
    this.preview.refresh();
    if (shown) status("Your history was deleted, and this list with it.");
    else if (loading) status("");
    return shown;
  }

  /**
   * The item with a preview `step` (±1) items away from `place` (see {@link placeOf}) in the list on
   * screen, with its Preview button; null when there is none that way. After the list changed under
   * the preview bar, `place` is the index the playing preview had in the old list: past the end of a
   * shorter list, Next has nothing (it once gave the last item, which Previous gave too: Next went
   * backwards) and Previous starts from the last item.
   */
  previewNear(place, step) {
    const rows = $("result-list").children;
    if (!place || !this.data) return null;
    const start = step < 0 ? Math.min(place.index + step, rows.length - 1) : place.index + step;
    for (let i = start; i >= 0 && i < rows.length; i += step) {
      const button = rows[i].querySelector(".preview-btn");
      if (button && this.data.items[i]) return { item: this.data.items[i], button };
    }
    return null;
  }

  /** Export links name the list on screen, so the file holds exactly what is shown. */
  exportLinks(params) {
    const id = this.data && this.data.list_id;
    for (const format of ["m3u8", "xspf", "csv"]) $(`export-${format}`).href = api.exportUrl(id, params, format);
  }

  /**
   * Like, Skip or Dislike one item. Focus stays on the pressed button; a Dislike replaces only that
   * row (saved lists) and focus moves to the new row's Undo button. The request names the item as
   * well as the row, so a retried or replayed Dislike never dislikes the song that replaced it.
   */
  async feedback(action, item, button) {
    const index = itemIndex(button);
    const listId = this.data && this.data.list_id;
    try {
      const answer = await api.sendFeedback(
        listId
          ? { action, list: listId, position: index, item: item.key }
          : { action, key: item.key, artist: item.artist, genre: item.genre || null },
      );
      const words = { like: "Liked", skip: "Skipped", dislike: "Disliked" }[action];
      status(`${words} “${item.title}”. Thanks — moodtape will take it into account.`);
      // A newer list came while the answer was on its way (a slow network): its row is the old
      // list's, and must not go into the new one, nor take focus there.
      // `already`: this dislike had landed before (another tab, a lost answer): show its replacement.
      const now = answer.list?.items[index];
      const landed = answer.already && now && now.key !== item.key;
      const replaced = action === "dislike" && (answer.replaced || landed) && answer.list;
      if (replaced && this.onScreen(listId)) this.replaceRow(index, item, answer.list);
      return true;
    } catch (err) {
      if (err.code === "stale_row" && listId && (await this.showChanged(listId))) return false;
      // Said again when it repeats: a second press that failed the same way is news too.
      status(`Feedback not saved: ${err.message}`);
      this.hooks.onError(err);
      return false;
    }
  }

  /**
   * The row no longer holds the song the person rated: the list was changed in another tab or
   * window (409 stale_row), and nothing was rated. Without this every press on that row repeated
   * the refusal until the page was reloaded: the list as it now is replaces it, and focus stays
   * where it is (the same button of the same row), as when a list loads.
   * @param {string} listId
   * @param {string} [what] what was not done, for the status line
   * @returns whether the list was drawn again (false: the page says the refusal itself)
   */
  async showChanged(listId, what = "nothing was rated") {
    let list;
    try {
      list = await api.getList(listId);
    } catch (err) {
      this.hooks.onError(err);
      return false;
    }
    if (!this.onScreen(listId)) return false;
    const inside = placeOf(document.activeElement);
    this.draw(list, this.params());
    if (inside && !focusPlace($("result-list"), inside)) $("results").focus();
    status(`This list had changed elsewhere (in another tab or window), so ${what}: here it is as it is now.`);
    return true;
  }

  /** Whether the list named `listId` is still the one on screen (answers about it may come late). */
  onScreen(listId) {
    return Boolean(listId) && Boolean(this.data) && this.data.list_id === listId;
  }

  /** Put the server's replacement for the disliked row `index` in place, with an Undo button. */
  replaceRow(index, disliked, list) {
    this.data = list;
    const rows = $("result-list");
    // Only the latest dislike can be undone: older Undo buttons go.
    for (const old of rows.querySelectorAll(".undo-btn")) {
      const row = old.closest(".item");
      old.remove();
      setStop(row, null);
    }
    const fresh = renderItem(list.items[index], index, this.handlers(), disliked);
    // Undo names the song it brings back and the dislike it takes back: a retry, or a second tab,
    // then never undoes another dislike, even one of the same song.
    fresh.querySelector(".undo-btn").dataset.item = disliked.key;
    fresh.querySelector(".undo-btn").dataset.dislike = list.dislike_id || "";
    rows.children[index].replaceWith(fresh);
    this.preview.refresh();
    const newcomer = list.items[index];
    status(`Disliked “${disliked.title}”; “${newcomer.title}” took its place.`);
    fresh.querySelector(".undo-btn").focus();
  }

  /** Undo the latest dislike: the list comes back as it was, focus on the restored row. */
  async undo(button) {
    const index = itemIndex(button);
    const listId = this.data.list_id;
    try {
      const list = await api.undoDislike(listId, button.dataset.item, button.dataset.dislike);
      // Undone on the server, but a newer list is on screen now: the old one is not drawn over it.
      if (!this.onScreen(listId)) return;
      this.draw(list, this.params());
      status(`Undone: “${list.items[index].title}” is back.`);
      focusItem($("result-list"), index);
    } catch (err) {
      if (err.code === "stale_row" && (await this.showChanged(listId, "nothing was undone"))) return;
      status(`Not undone: ${err.message}`);
      this.hooks.onError(err);
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
      const asked = this.asked;
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
        // The server answers with the list for the corrected mood: no second request needed. Unless
        // a list was asked for while the answer was on its way (a strategy or kind pressed on a slow
        // network): the corrected mood's list is then made with those choices, and focus stays
        // where the person has gone since.
        const newer = this.asked !== asked;
        const chosen = { ...mood, emotion: corrected, emotionOnly: true };
        const options = newer ? {} : { preloaded: answer.recommendations || null, focusList: true };
        await this.hooks.applyMood(chosen, "manual", options);
        status(`Thanks. Using “${emotionWord(corrected)}” instead of “${emotionWord(detected)}”.`);
      } catch (err) {
        status(`Not saved: ${err.message}`);
        this.hooks.onError(err);
      }
    });
  }
}
