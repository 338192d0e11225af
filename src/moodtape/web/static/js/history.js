// The history dialog: what lists this browser session was given, and a button to delete them.

import { emotionWord } from "./words.js";
import { deleteHistory, getHistory, getHistoryConsent, setHistoryConsent, useCsrfToken } from "./api.js";
import { say } from "./say.js";

/** The page's other tabs in this browser. They share its cookie, so once "Delete everything" moves
 * the visit to a new session they need its CSRF token too (else their next change is refused), and
 * their list on screen went with the old session. A browser without BroadcastChannel: the other
 * tab's next change is refused with "reload the page" (docs/page.md). */
const otherTabs = typeof BroadcastChannel === "function" ? new BroadcastChannel("moodtape-session") : null;

function describe(entry) {
  const when = new Date(entry.at);
  const time = Number.isNaN(when.getTime()) ? entry.at : when.toLocaleString();
  const mood = entry.mood && entry.mood.emotion ? emotionWord(entry.mood.emotion) : "a mood";
  const titles = entry.titles || [];
  const shown = titles.slice(0, 3).join(", ") + (titles.length > 3 ? `, … (${titles.length} in all)` : "");
  const where = entry.kept === false ? " (this visit only)" : "";
  return { head: `${time} — ${entry.kind || "tracks"} for ${mood}, ${entry.strategy || "auto"}${where}`, titles: shown };
}

/** The consent switch: shown only when the server offers the endpoint; off until the person turns it on. */
async function showConsent(row, consent, onError) {
  try {
    const value = await getHistoryConsent();
    row.hidden = value === null;
    if (value === null) return;
    consent.setAttribute("aria-checked", String(value.history === true));
    const note = row.querySelector(".consent-note");
    const days = Math.round(value.retention_days);
    note.textContent = value.history === true
      ? `On: lists are kept for ${days} days (at most ${value.max_lists}).`
      : `Off until you turn it on: lists are kept only for this visit. On, they are kept for ${days} days.`;
  } catch (err) {
    row.hidden = true;
    onError(err);
  }
}

/** "Show this list": reopens a past list on the page, exactly as it was (dislikes replaced).
 * `headId` is the entry's heading: every entry has this button, and its description (the entry's
 * time and mood) tells a screen reader's list of buttons which is which, the name staying short. */
function reopenButton(entry, onReopen, headId) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn small reopen";
  button.textContent = "Show this list";
  button.setAttribute("aria-describedby", headId);
  button.addEventListener("click", () => onReopen(entry.list_id));
  return button;
}

export function setupHistory({
  openButton,
  dialog,
  list,
  status,
  deleteButton,
  confirmRow,
  confirmButton,
  keepButton,
  closeButton,
  consentRow,
  consent,
  onError,
  onOpen,
  onDeleted = () => false,
}) {
  // Where focus goes when the dialog closes: into a reopened list (set only by the "Show this list"
  // that closed it), else back to History (APG dialog pattern), whichever way it closed.
  let afterClose = null;
  // The "Show this list" waiting for its list. Closing the dialog (Escape, Close) or choosing another
  // list drops it: the list behind the page must not change once the person has moved on.
  let opening = null;
  const reopen = async (listId) => {
    if (opening) opening.abort();
    const controller = new AbortController();
    opening = controller;
    say(status, "Opening that list…", { again: false });
    try {
      const focusTarget = await onOpen(listId, { signal: controller.signal });
      if (controller.signal.aborted || !focusTarget || !dialog.open) return;
      afterClose = focusTarget;
      dialog.close();
    } catch (err) {
      if (controller.signal.aborted) return;
      // Said here, in the dialog: while it is open the rest of the page is inert, out of a screen
      // reader's reach. The dialog stays open and focus stays on the button, to try again or go.
      say(status, `Could not open that list: ${err.message}`);
    } finally {
      if (opening === controller) opening = null;
    }
  };

  // Alerts of the page behind (the server gone, a camera problem) written while the dialog was open
  // are not heard (inert): said once it closes (written again; see sayAlertsAgain).
  const alertsBehind = () => [...document.querySelectorAll('[role="alert"]')].filter((el) => !dialog.contains(el));
  let alertWords = new Map();

  consent.addEventListener("click", async () => {
    const wanted = consent.getAttribute("aria-checked") !== "true";
    // The switch flips at once and flips back if the server refuses.
    consent.setAttribute("aria-checked", String(wanted));
    try {
      await setHistoryConsent(wanted);
      showConsent(consentRow, consent, onError);
      status.textContent = wanted ? "moodtape will keep your lists." : "moodtape will not keep your lists.";
    } catch (err) {
      consent.setAttribute("aria-checked", String(!wanted));
      status.textContent = err.message;
      onError(err);
    }
  });

  const render = (items) => {
    list.replaceChildren(
      ...items.map((entry, index) => {
        const { head, titles } = describe(entry);
        const li = document.createElement("li");
        const strong = document.createElement("strong");
        strong.id = `history-entry-${index}`;
        strong.textContent = head;
        const p = document.createElement("p");
        p.textContent = titles;
        li.append(strong, p);
        if (onOpen && entry.list_id) li.append(reopenButton(entry, reopen, strong.id));
        return li;
      }),
    );
    deleteButton.disabled = items.length === 0;
  };

  openButton.addEventListener("click", async () => {
    afterClose = null;
    alertWords = new Map(alertsBehind().map((el) => [el, el.textContent]));
    dialog.showModal();
    confirmRow.hidden = true;
    status.textContent = "Loading…";
    showConsent(consentRow, consent, onError);
    try {
      const data = await getHistory();
      render(data.items);
      status.textContent = data.items.length
        ? `${data.items.length} ${data.items.length === 1 ? "list" : "lists"} in your history.`
        : "Your history is empty.";
    } catch (err) {
      status.textContent = err.message;
      onError(err);
    }
  });

  // Deleting cannot be undone, so it takes two steps; the safe choice has focus.
  deleteButton.addEventListener("click", () => {
    confirmRow.hidden = false;
    keepButton.focus();
  });
  keepButton.addEventListener("click", () => {
    confirmRow.hidden = true;
    deleteButton.focus();
  });
  confirmButton.addEventListener("click", async () => {
    // One deletion per confirmation: a double click, or Enter pressed twice, sent a second DELETE,
    // answered "deleted: 0" (the server runs them one after the other), and whichever answer came
    // last wrote the status, "Deleted 0 lists" included. aria-disabled, not disabled: a disabled
    // button drops keyboard focus to <body> (as in calibrate.js and player.js).
    if (confirmButton.getAttribute("aria-disabled") === "true") return;
    confirmButton.setAttribute("aria-disabled", "true");
    status.textContent = "Deleting everything…";
    try {
      const data = await deleteHistory();
      // The visit goes on in a new session: its token first, so the next change works at once.
      useCsrfToken(data.csrf_token);
      if (otherTabs && data.csrf_token) otherTabs.postMessage({ renewed: data.csrf_token });
      confirmRow.hidden = true;
      render([]);
      // The list on the page is one of those deleted: the page lets it go (onDeleted says whether
      // there was one). Said here: outside the dialog, the page is out of a screen reader's reach.
      const listGone = onDeleted() ? " The list on the page went with it." : "";
      status.textContent = `Deleted ${data.deleted} ${data.deleted === 1 ? "list" : "lists"}. Your history is empty.${listGone}`;
      // The calibration went with it: its view (calibrate.js, which imports nothing from the page)
      // hears it here and stops saying "Calibrated".
      document.dispatchEvent(new CustomEvent("moodtape:history-deleted"));
      // The delete button is now disabled, which would drop focus to <body>: Close is next.
      closeButton.focus();
    } catch (err) {
      status.textContent = err.message;
      onError(err);
    } finally {
      confirmButton.removeAttribute("aria-disabled");
    }
  });

  // Everything was deleted in another tab: this one goes on in the new session too, and lets go
  // of what went with the old one (its list, its calibration, the history in the open dialog).
  if (otherTabs) {
    otherTabs.addEventListener("message", (event) => {
      const token = event.data && event.data.renewed;
      if (typeof token !== "string") return;
      useCsrfToken(token);
      if (dialog.open) {
        confirmRow.hidden = true;
        render([]);
        status.textContent = "Everything was deleted in another tab. Your history is empty.";
      }
      onDeleted();
      document.dispatchEvent(new CustomEvent("moodtape:history-deleted"));
    });
  }

  closeButton.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (opening) opening.abort();
    opening = null;
    const next = afterClose;
    afterClose = null;
    if (next) next();
    else openButton.focus();
    sayAlertsAgain(alertsBehind(), alertWords);
  });
}

/** How long an alert stays cleared before its words are written back (as in say.js). */
const ALERT_GAP_MS = 150;

/** Write again each of `alerts` shown whose words differ from `before` (their words when the dialog
 * opened): cleared, then written back a moment later, unless something wrote to it meanwhile. */
function sayAlertsAgain(alerts, before) {
  for (const el of alerts) {
    const text = el.textContent;
    if (!text.trim() || text === before.get(el) || !el.checkVisibility()) continue;
    el.textContent = "";
    setTimeout(() => {
      if (el.textContent === "" && el.checkVisibility()) el.textContent = text;
    }, ALERT_GAP_MS);
  }
}
