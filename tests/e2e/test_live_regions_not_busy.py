"""No live region speaks from inside a busy element (session 21).

WAI-ARIA lets assistive technology hold back the changes inside an element marked
``aria-busy="true"`` until it is no longer busy; NVDA and JAWS do. Before, a loading list marked
its whole card busy, and the card holds the list's status line (``#results-status``): "Finding
music for this mood…" was written inside a busy element, so a screen reader could keep it back
for as long as it mattered and then merge it with, or drop it for, the list's own line, which was
written while the card was still busy too. Now only the list being replaced (``#result-list``) is
busy, and the status line is outside it.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import hold_requests, pick_by_hand

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: Every text change of every live region into ``window.__liveWrites`` ({region, text, busy, modal}),
#: with whether the region or an ancestor was ``aria-busy="true"`` at the moment of the change, and
#: whether a modal dialog was open (the page behind it is inert, out of a screen reader's reach). The
#: observer sees a task's changes only after the task, when the script may already have cleared
#: aria-busy (the list's line and the end of the busy state come in one task), so it replays the
#: batch's aria-busy changes from their old values instead of reading the attribute afterwards.
RECORD_LIVE_WRITES = """() => {
  window.__liveWrites = [];
  const LIVE = '[role="status"], [role="alert"], [role="log"], [aria-live]:not([aria-live="off"])';
  const regionOf = (node) => {
    const el = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    return el ? el.closest(LIVE) : null;
  };
  new MutationObserver((records) => {
    // Each aria-busy change's new value: the next change's old value, or the attribute as now.
    const after = new Map();
    const newValues = new Map();
    for (const r of [...records].reverse()) {
      if (r.type !== "attributes") continue;
      newValues.set(r, after.has(r.target) ? after.get(r.target) : r.target.getAttribute("aria-busy"));
      after.set(r.target, r.oldValue);
    }
    const busy = after; // from here on: each changed element's value at the point of the replay
    const valueOf = (el) => (busy.has(el) ? busy.get(el) : el.getAttribute("aria-busy"));
    const busyAt = (el) => {
      for (let node = el; node; node = node.parentElement) if (valueOf(node) === "true") return true;
      return false;
    };
    for (const r of records) {
      if (r.type === "attributes") {
        busy.set(r.target, newValues.get(r));
        continue;
      }
      const region = regionOf(r.target);
      if (!region) continue;
      const text = region === r.target && r.type === "childList"
        ? [...r.addedNodes].map((n) => n.textContent).join("")
        : region.textContent;
      window.__liveWrites.push({ region: region.id || region.className, text: text.trim(), busy: busyAt(region),
        modal: Boolean(document.querySelector(":modal")) });
    }
  }).observe(document.body, {
    subtree: true, childList: true, characterData: true,
    attributes: true, attributeFilter: ["aria-busy"], attributeOldValue: true,
  });
}"""

WRITES = "() => window.__liveWrites"
WRITTEN_UNDER_BUSY = "() => window.__liveWrites.filter((w) => w.busy)"


def written(page: Any, region: str) -> list[str]:
    """The texts written into the live region with id ``region``, in order."""
    return [w["text"] for w in page.evaluate(WRITES) if w["region"] == region]


def test_finding_music_and_the_lists_line_are_written_outside_any_busy_element(page: Any) -> None:
    held = hold_requests(page)
    page.get_by_role("tab", name="Pick by hand").click()
    page.evaluate(RECORD_LIVE_WRITES)
    page.locator("#emotion-buttons").get_by_role("button", name="happy", exact=True).click()
    expect(page.locator("#results-status")).to_have_text("Finding music for this mood…")  # past 1 s
    assert page.locator("[aria-busy='true']").count() == 1, "nothing marked busy while the list loads"
    held.pop().continue_()
    expect(page.locator("#result-list > li").first).to_be_attached()
    expect(page.locator("[aria-busy='true']")).to_have_count(0)
    lines = written(page, "results-status")
    assert lines[0] == "Finding music for this mood…", lines
    assert lines[-1].startswith("12 tracks, strategy"), lines
    assert page.evaluate(WRITTEN_UNDER_BUSY) == [], page.evaluate(WRITES)


def test_feedback_answered_while_a_list_loads_is_written_outside_any_busy_element(page: Any) -> None:
    """Like pressed (its group busy until the answer), then Calm: the Like's answer comes while the
    Calm list is loading. Before, "Liked …" was written inside the busy card."""
    pick_by_hand(page, "happy")
    feedback = hold_requests(page, "**/api/feedback")
    lists = hold_requests(page)
    page.evaluate(RECORD_LIVE_WRITES)
    page.locator("#result-list > li").first.locator(".fb-like").click()
    expect(page.locator(".feedback[aria-busy='true']")).to_have_count(1)
    page.locator("#strategy-group [data-strategy=calm]").click()
    page.wait_for_function("() => document.querySelectorAll('[aria-busy=\"true\"]').length === 2")
    feedback.pop().continue_()
    expect(page.locator("#results-status")).to_contain_text("Liked")
    lists.pop().continue_()
    expect(page.locator("#results-status")).to_contain_text("tracks, strategy calm")
    expect(page.locator("[aria-busy='true']")).to_have_count(0)
    assert any(text.startswith("Liked") for text in written(page, "results-status")), page.evaluate(WRITES)
    assert page.evaluate(WRITTEN_UNDER_BUSY) == [], page.evaluate(WRITES)


def test_play_pressed_while_a_list_loads_is_said_outside_any_busy_element(page: Any) -> None:
    """Play pressed while the Calm list loads (session 22). Before, "Loading the Deezer player…" and
    "The Deezer player can't load: …" were written in the item's own status line, inside the busy
    list; now that line is for the eyes and the page's ``#player-news``, outside the list, says them."""
    page.route("https://**", lambda route: route.abort("internetdisconnected"))
    pick_by_hand(page, "happy")
    lists = hold_requests(page)
    page.evaluate(RECORD_LIVE_WRITES)
    page.locator("#strategy-group [data-strategy=calm]").click()
    expect(page.locator("#result-list")).to_have_attribute("aria-busy", "true")
    item = page.locator("#result-list > li").filter(has=page.locator(".play-btn")).first
    item.locator(".play-btn").click()
    expect(item.locator(".play-status")).to_contain_text("can't load")
    assert page.evaluate(WRITTEN_UNDER_BUSY) == [], page.evaluate(WRITES)
    said = written(page, "player-news")
    assert len(said) == 2 and said[0].startswith("Loading the ") and "can't load" in said[1], said
    lists.pop().continue_()
    expect(page.locator("[aria-busy='true']")).to_have_count(0)


#: The player's host, as the list's embed addresses give it (the page probes it before Play).
PLAYER_HOST = "https://widget.deezer.com/**"


def _items_with_play(page: Any) -> list[Any]:
    """The list's items that have a Play button, each by its place (Play is replaced by the player)."""
    places = page.evaluate(
        "() => [...document.querySelectorAll('#result-list > li')]"
        ".flatMap((li, place) => (li.querySelector('.play-btn') ? [place] : []))"
    )
    return [page.locator("#result-list > li").nth(place) for place in places]


def _wait_for_requests(page: Any, held: list[Any], count: int) -> None:
    """Poll until ``count`` requests are held (their route handlers run between Playwright calls)."""
    for _ in range(100):
        if len(held) >= count:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"{len(held)} of {count} requests came")


def heard(page: Any, region: str) -> list[str]:
    """The non-empty texts written into ``region`` while no modal dialog made the page inert."""
    return [w["text"] for w in page.evaluate(WRITES) if w["region"] == region and w["text"] and not w["modal"]]


def test_play_loaded_is_said_once_outside_the_list_and_focus_goes_to_the_player(page: Any) -> None:
    page.route(PLAYER_HOST, lambda route: route.fulfill(body="<!doctype html><title>player</title>"))
    pick_by_hand(page, "happy")
    page.evaluate(RECORD_LIVE_WRITES)
    item = _items_with_play(page)[0]
    item.locator(".play-btn").click()
    expect(item.locator("iframe.player")).to_be_focused()
    expect(item.locator(".play-status")).to_have_text("Deezer player loaded.")
    assert written(page, "player-news") == ["Loading the Deezer player…", "Deezer player loaded."]
    assert item.locator(".play-status").get_attribute("role") is None, "the item's line is for the eyes only"


def test_play_of_a_list_replaced_while_its_host_is_checked_says_nothing_more(page: Any) -> None:
    """The item's host answers (here: fails) only after Calm has replaced the list: nothing is said
    about a player that is no longer there, and the list's own line is the last news."""
    probes = hold_requests(page, PLAYER_HOST)
    pick_by_hand(page, "happy")
    page.evaluate(RECORD_LIVE_WRITES)
    _items_with_play(page)[0].locator(".play-btn").click()
    expect(page.locator("#player-news")).to_have_text("Loading the Deezer player…")
    page.locator("#strategy-group [data-strategy=calm]").click()
    expect(page.locator("#results-status")).to_contain_text("tracks, strategy calm")
    _wait_for_requests(page, probes, 1)
    probes.pop().abort("internetdisconnected")
    # A Play in the new list, answered after the old check failed: its words come after any of the old.
    item = _items_with_play(page)[0]
    item.locator(".play-btn").click()
    _wait_for_requests(page, probes, 1)
    probes.pop().fulfill(body="<!doctype html><title>player</title>")
    expect(item.locator(".play-status")).to_have_text("Deezer player loaded.")
    said = [text for text in written(page, "player-news") if text]
    assert said[0] == "Loading the Deezer player…" and said[-1] == "Deezer player loaded.", said
    assert not [text for text in said if "can't load" in text], said
    assert written(page, "results-status")[-1].startswith("12 tracks, strategy calm"), page.evaluate(WRITES)


def test_play_answered_while_history_is_open_is_said_once_it_closes(page: Any) -> None:
    """Two Plays, both answered while the History dialog is open (the page behind it is inert). Before:
    "can't load" and "loaded" were written into ``#player-news`` where nobody could hear them, and
    nothing was said when the dialog closed. Now the latest line waits and is said once it closes."""
    probes = hold_requests(page, PLAYER_HOST)
    pick_by_hand(page, "happy")
    first, second = _items_with_play(page)[:2]
    first.locator(".play-btn").click()
    second.locator(".play-btn").click()
    _wait_for_requests(page, probes, 2)
    # The second Play's words are the first's: cleared, and written back 150 ms later (say.js).
    expect(page.locator("#player-news")).to_have_text("Loading the Deezer player…")
    page.evaluate(RECORD_LIVE_WRITES)
    page.locator("#history-open").click()
    page.wait_for_function("() => Boolean(document.querySelector(':modal'))")
    probes.pop(0).abort("internetdisconnected")
    expect(first.locator(".play-status")).to_contain_text("can't load")
    probes.pop(0).fulfill(body="<!doctype html><title>player</title>")
    expect(second.locator(".play-status")).to_have_text("Deezer player loaded.")
    page.keyboard.press("Escape")
    expect(page.locator("#history-open")).to_be_focused()
    expect(page.locator("#player-news")).to_have_text("Deezer player loaded.")
    said_while_open = [w["text"] for w in page.evaluate(WRITES) if w["region"] == "player-news" and w["modal"]]
    assert said_while_open == [], said_while_open
    assert heard(page, "player-news") == ["Deezer player loaded."], page.evaluate(WRITES)


def test_play_news_held_behind_history_is_dropped_when_a_list_from_it_replaces_the_item(page: Any) -> None:
    """The player loads while History is open, and "Show this list" then replaces the list: the held
    "Deezer player loaded." is about an item no longer on the page, and is not said after the dialog."""
    probes = hold_requests(page, PLAYER_HOST)
    pick_by_hand(page, "happy")
    item = _items_with_play(page)[0]
    item.locator(".play-btn").click()
    _wait_for_requests(page, probes, 1)
    page.evaluate(RECORD_LIVE_WRITES)
    page.locator("#history-open").click()
    expect(page.locator("#history-list .reopen").first).to_be_visible()
    probes.pop().fulfill(body="<!doctype html><title>player</title>")
    expect(item.locator(".play-status")).to_have_text("Deezer player loaded.")
    page.locator("#history-list .reopen").first.click()
    expect(page.locator("#results-status")).to_contain_text("A list from your history")
    # A held line is said in a task queued when the dialog closed: one queued now runs after it.
    page.evaluate("() => new Promise((done) => setTimeout(done))")
    assert heard(page, "player-news") == [], page.evaluate(WRITES)
