// The history dialog: what lists this browser session was given, and a button to delete them.

import { emotionWord } from "./words.js";
import { deleteHistory, getHistory, getHistoryConsent, setHistoryConsent } from "./api.js";

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
  // Where focus goes when the dialog closes: back to History, or into a reopened list.
  let afterClose = () => openButton.focus();
  const reopen = async (listId) => {
    const focusTarget = await onOpen(listId);
    if (!focusTarget) return;
    afterClose = focusTarget;
    dialog.close();
  };

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
    try {
      const data = await deleteHistory();
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
    }
  });

  closeButton.addEventListener("click", () => dialog.close());
  // Back to the button that opened it, whichever way the dialog closed (Close, Escape).
  dialog.addEventListener("close", () => {
    afterClose();
    afterClose = () => openButton.focus();
  });
}
