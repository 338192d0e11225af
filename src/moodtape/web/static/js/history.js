// The history dialog: what lists this browser session was given, and a button to delete them.

import { deleteHistory, getConsent, getHistory, setConsent } from "./api.js";

function describe(entry) {
  const when = new Date(entry.at);
  const time = Number.isNaN(when.getTime()) ? entry.at : when.toLocaleString();
  const mood = entry.mood && entry.mood.emotion ? entry.mood.emotion : "a mood";
  const titles = entry.titles || [];
  const shown = titles.slice(0, 3).join(", ") + (titles.length > 3 ? `, … (${titles.length} in all)` : "");
  return { head: `${time} — ${entry.kind || "tracks"} for ${mood}, ${entry.strategy || "auto"}`, titles: shown };
}

/** "Show this list": reopens a past list on the page, exactly as it was (dislikes replaced). */
function reopenButton(entry, dialog, onOpen) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn reopen";
  button.textContent = "Show this list";
  button.addEventListener("click", async () => {
    if (await onOpen(entry.list_id)) dialog.close();
  });
  return button;
}

export function setupHistory({ openButton, dialog, list, status, deleteButton, closeButton, onError, onOpen }) {
  const render = (items) => {
    list.replaceChildren(
      ...items.map((entry) => {
        const { head, titles } = describe(entry);
        const li = document.createElement("li");
        const strong = document.createElement("strong");
        strong.textContent = head;
        const p = document.createElement("p");
        p.textContent = titles;
        li.append(strong, p);
        if (onOpen && entry.list_id) li.append(reopenButton(entry, dialog, onOpen));
        return li;
      }),
    );
    deleteButton.disabled = items.length === 0;
  };

  const consent = consentSwitch(dialog, status, onError);

  openButton.addEventListener("click", async () => {
    dialog.showModal();
    consent.refresh();
    status.textContent = "Loading…";
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

  deleteButton.addEventListener("click", async () => {
    try {
      const data = await deleteHistory();
      render([]);
      status.textContent = `Deleted ${data.deleted} ${data.deleted === 1 ? "list" : "lists"}. Your history is empty.`;
    } catch (err) {
      status.textContent = err.message;
      onError(err);
    }
  });

  closeButton.addEventListener("click", () => dialog.close());
}

/**
 * "Keep my history": off until the person chooses. Without it, lists live only for this visit.
 * Built here (not in the page's HTML) so the switch and the API that stores the choice stay together.
 */
function consentSwitch(dialog, status, onError) {
  const label = document.createElement("label");
  label.className = "consent";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.id = "history-consent";
  label.htmlFor = box.id;
  const words = document.createElement("span");
  words.textContent = "Keep my history";
  label.append(box, " ", words);
  const heading = dialog.querySelector("h2, h3");
  if (heading) heading.after(label);
  else dialog.prepend(label);

  const describe = (answer) => {
    box.checked = answer.history === true;
    words.textContent = answer.history
      ? `Keep my history (kept ${answer.retention_days} days, at most ${answer.max_lists} lists)`
      : "Keep my history (off: lists are kept for this visit only)";
  };
  box.addEventListener("change", async () => {
    try {
      describe(await setConsent(box.checked));
    } catch (err) {
      box.checked = !box.checked;
      status.textContent = err.message;
      onError(err);
    }
  });
  return {
    refresh: async () => {
      try {
        describe(await getConsent());
      } catch (err) {
        onError(err);
      }
    },
  };
}
