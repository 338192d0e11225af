"""The page's feedback names the item on the row, so a replayed Dislike never dislikes its replacement;
feedback on a row that changed in another tab rates nothing, and the page shows the list as it is."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

#: POST ``body`` (JSON; null: none) to ``url`` from the page, as this session: what another tab does.
POST = """async ([url, body, token]) => {
  const answer = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
    body: body === null ? undefined : JSON.stringify(body),
  });
  return [answer.status, await answer.json()];
}"""


def _shown(page: Any) -> dict[str, Any]:
    """Pick "neutral" by hand; the list's answer, once it is on screen."""
    page.get_by_role("tab", name="Pick by hand").click()
    with page.expect_response(lambda r: "/api/lists?" in r.url and r.request.method == "POST") as made:
        page.locator("#emotion-buttons").get_by_role("button", name="neutral", exact=True).click()
    expect(page.locator("#result-list > li").first).to_be_visible()
    shown: dict[str, Any] = made.value.json()
    return shown


def _post(page: Any, url: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    status, answer = page.evaluate(POST, [url, body, token])
    return status, answer


def _feedback(response: Any) -> bool:
    return bool(response.url.endswith("/api/feedback"))


def test_a_dislike_names_its_item_and_its_replay_changes_nothing(page: Any) -> None:
    shown = _shown(page)
    dislike = page.locator("#result-list > li").nth(2).get_by_role("button", name="Dislike", exact=True)
    with page.expect_response(_feedback) as answered:
        dislike.click()
    sent = answered.value.request.post_data_json
    assert sent == {"action": "dislike", "list": shown["list_id"], "position": 2, "item": shown["items"][2]["key"]}
    replacement = answered.value.json()["list"]["items"][2]
    expect(page.locator("#result-list .title").nth(2)).to_have_text(replacement["title"])

    status, again = _post(page, "/api/feedback", sent)  # the same request, sent once more
    assert status == 200 and again["already"] is True and again["replaced"] is False
    assert again["list"]["items"][2]["key"] == replacement["key"], "the replacement stays"


def test_a_like_on_a_row_changed_in_another_tab_rates_nothing_and_shows_the_list_as_it_is(page: Any) -> None:
    """Before, the 409 said "row 2 … (GET /api/lists/ID)", and every press repeated it until a reload."""
    shown = _shown(page)
    row = {"list": shown["list_id"], "position": 2, "item": shown["items"][2]["key"]}
    status, elsewhere = _post(page, "/api/feedback", {"action": "dislike", **row})  # another tab
    assert status == 200 and elsewhere["replaced"] is True
    newcomer = elsewhere["list"]["items"][2]

    like = page.locator("#result-list > li").nth(2).get_by_role("button", name="Like", exact=True)
    with page.expect_response(_feedback) as answered:
        like.click()
    assert answered.value.status == 409 and answered.value.json()["error"]["code"] == "stale_row"
    expect(page.locator("#results-status")).to_have_text(
        "This list had changed elsewhere (in another tab or window), so nothing was rated: here it is as it is now."
    )
    expect(page.locator("#result-list .title").nth(2)).to_have_text(newcomer["title"])
    again = page.locator("#result-list > li").nth(2).get_by_role("button", name="Like", exact=True)
    expect(again).to_be_focused()  # the same button of the same row, drawn anew
    expect(again).to_have_attribute("aria-pressed", "false")

    # Nothing was rated: with the other tab's dislike undone, the very Like the page sent is new.
    assert _post(page, f"/api/lists/{shown['list_id']}/undo", None)[0] == 200
    status, like_now = _post(page, "/api/feedback", answered.value.request.post_data_json)
    assert status == 200 and like_now["already"] is False, "the refused Like was counted"


def test_a_dislike_that_landed_in_another_tab_shows_its_replacement(page: Any) -> None:
    shown = _shown(page)
    row = {"list": shown["list_id"], "position": 2, "item": shown["items"][2]["key"]}
    status, elsewhere = _post(page, "/api/feedback", {"action": "dislike", **row})  # another tab
    assert status == 200
    newcomer = elsewhere["list"]["items"][2]

    dislike = page.locator("#result-list > li").nth(2).get_by_role("button", name="Dislike", exact=True)
    with page.expect_response(_feedback) as answered:
        dislike.click()
    assert answered.value.json()["already"] is True and answered.value.json()["replaced"] is False
    expect(page.locator("#result-list .title").nth(2)).to_have_text(newcomer["title"])
    expect(page.locator("#results-status")).to_have_text(
        f"Disliked “{shown['items'][2]['title']}”; “{newcomer['title']}” took its place."
    )
    expect(page.locator("#result-list > li").nth(2).locator(".undo-btn")).to_be_focused()


def _undo(response: Any) -> bool:
    return bool(response.url.endswith("/undo"))


def test_undo_names_the_song_it_brings_back_and_its_replay_undoes_nothing_more(page: Any) -> None:
    shown = _shown(page)
    _post(page, "/api/feedback", {"action": "dislike", "list": shown["list_id"], "position": 0})  # another tab
    dislike = page.locator("#result-list > li").nth(2).get_by_role("button", name="Dislike", exact=True)
    with page.expect_response(_feedback) as disliked:
        dislike.click()
    undo = page.locator("#result-list > li").nth(2).locator(".undo-btn")
    with page.expect_response(_undo) as answered:
        undo.click()
    named = {"item": shown["items"][2]["key"], "dislike_id": disliked.value.json()["list"]["dislike_id"]}
    assert answered.value.request.post_data_json == named
    expect(page.locator("#result-list .title").nth(2)).to_have_text(shown["items"][2]["title"])

    status, again = _post(page, answered.value.url, {"item": shown["items"][2]["key"]})  # sent once more
    assert status == 200 and again["already"] is True
    assert again["undo"] == 1, "the replay undid the other tab's dislike"


def test_an_undo_after_the_list_changed_in_another_tab_undoes_nothing_and_shows_the_list(page: Any) -> None:
    shown = _shown(page)
    dislike = page.locator("#result-list > li").nth(2).get_by_role("button", name="Dislike", exact=True)
    with page.expect_response(_feedback):
        dislike.click()
    status, elsewhere = _post(page, "/api/feedback", {"action": "dislike", "list": shown["list_id"], "position": 4})
    assert status == 200 and elsewhere["replaced"] is True  # another tab disliked a later row: the latest now

    with page.expect_response(_undo) as answered:
        page.locator("#result-list > li").nth(2).locator(".undo-btn").click()
    assert answered.value.status == 409 and answered.value.json()["error"]["code"] == "stale_row"
    expect(page.locator("#results-status")).to_have_text(
        "This list had changed elsewhere (in another tab or window), so nothing was undone: here it is as it is now."
    )
    expect(page.locator("#result-list .title").nth(4)).to_have_text(elsewhere["list"]["items"][4]["title"])
    # The Undo pressed is gone with the redrawn row (only the latest dislike offers one): focus stays in
    # that row, on the control at the same place, not at the page's start.
    rows = "document.querySelector('#result-list').children"
    in_row = f"() => document.activeElement.closest('#result-list > li') === {rows}[2]"
    assert page.evaluate(in_row), page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)")
