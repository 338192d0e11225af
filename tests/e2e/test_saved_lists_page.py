"""The page keeps its list: a dislike replaces one row with Undo, Videos → Music brings the list back."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect


def _pick(page: Any, emotion: str) -> list[str]:
    page.get_by_role("tab", name="Pick by hand").click()
    page.locator("#emotion-buttons").get_by_role("button", name=emotion, exact=True).click()
    expect(page.locator("#results-mood")).to_contain_text(emotion)
    expect(page.locator("#result-list > li").first).to_be_visible()
    return _titles(page)


def _titles(page: Any) -> list[str]:
    titles: list[str] = page.locator("#result-list .title").all_text_contents()
    return titles


def test_a_dislike_replaces_one_row_and_undo_brings_it_back(page: Any) -> None:
    before = _pick(page, "neutral")
    dislike = page.locator("#result-list > li").nth(2).get_by_role("button", name="Dislike", exact=True)
    with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as answer:
        dislike.click()
    sent = answer.value.request.post_data_json
    assert sent["position"] == 2 and len(sent["list"]) == 32, "feedback names the list and the row"
    expect(page.locator("#result-list .title").nth(2)).not_to_have_text(before[2])
    after = _titles(page)
    assert after[:2] == before[:2] and after[3:] == before[3:]
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#result-list .title").nth(2)).to_have_text(before[2])
    assert _titles(page) == before


def test_switching_kind_and_back_restores_the_list(page: Any) -> None:
    music = _pick(page, "sad")
    page.get_by_role("button", name="Videos").click()
    expect(page.locator("#results-status")).to_contain_text("videos")
    page.get_by_role("button", name="Music").click()
    expect(page.locator("#results-status")).to_contain_text("tracks")
    assert _titles(page) == music


def test_history_is_off_until_the_switch_is_turned_on(page: Any) -> None:
    _pick(page, "happy")
    page.get_by_role("button", name="History").click()
    switch = page.locator("#history-consent")
    expect(switch).not_to_be_checked()
    with page.expect_response(lambda r: r.url.endswith("/api/history/consent") and r.request.method == "PUT"):
        switch.check()
    expect(page.locator("#history-dialog .consent")).to_contain_text("30")


def test_history_reopens_a_past_list_as_it_was(page: Any) -> None:
    sad = _pick(page, "sad")
    _pick(page, "happy")
    page.get_by_role("button", name="History").click()
    older = page.locator("#history-list > li").nth(1)
    expect(older).to_contain_text("sad")
    older.get_by_role("button", name="Show this list").click()
    expect(page.locator("#history-dialog")).not_to_be_visible()
    expect(page.locator("#result-list .title").first).to_have_text(sad[0])
    assert _titles(page) == sad
    assert "list=" in (page.locator("#export-csv").get_attribute("href") or "")
