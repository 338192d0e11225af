"""Issue 13, points 4–7: clear words, phone first, players that explain themselves, fast delivery."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browsertools import Server, pick_by_hand, serve_previews, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

FIRST_PLAYABLE = "[...document.querySelectorAll('#result-list > li')].findIndex((li) => li.querySelector('.play-btn'))"

# Controls a finger must hit (inline links inside running text are exempt, as in WCAG 2.5.8).
SMALL_TARGETS = """() => [...document.querySelectorAll(
    "button, select, input:not([hidden]), .btn, [role=tab], [role=switch], .footer-links a, #result-list a")]
  .filter((el) => el.getClientRects().length && !el.closest("[hidden]"))
  .map((el) => [el.id || el.textContent.trim().slice(0, 30), el.getBoundingClientRect()])
  .filter(([, r]) => r.height < 44 || r.width < 44)
  .map(([name, r]) => `${name}: ${Math.round(r.width)}×${Math.round(r.height)}`)"""


def test_emotions_are_named_as_people_name_them_and_the_choice_is_pressed(page: Any) -> None:
    page.get_by_role("tab", name="Pick by hand").click()
    names = page.locator("#emotion-buttons button").all_text_contents()
    assert names == ["angry", "disgusted", "afraid", "happy", "sad", "surprised", "neutral"]
    afraid = page.get_by_role("button", name="afraid", exact=True)
    afraid.click()
    expect(afraid).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#emotion-buttons [aria-pressed=true]")).to_have_count(1)
    # Plain words first, numbers after: "afraid — unpleasant and energetic (pleasant −0.65 · …)".
    expect(page.locator("#results-mood")).to_contain_text("afraid — unpleasant and energetic")
    expect(page.locator("#results-mood .numbers")).to_contain_text(
        re.compile(r"pleasant −0\.\d\d · energetic \+0\.\d\d")
    )
    expect(page.locator("#results-mood")).not_to_contain_text("valence")
    page.get_by_role("button", name="sad", exact=True).click()
    expect(afraid).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_role("button", name="sad", exact=True)).to_have_attribute("aria-pressed", "true")


def test_strategy_explanations_are_on_screen(page: Any) -> None:
    pick_by_hand(page, "sad")
    explain = page.locator("#strategy-explain")
    expect(explain).to_be_visible()
    expect(explain).to_have_text(re.compile(r"^Auto chose (Match|Uplift|Calm|Energize): .+\.$"))
    page.get_by_role("button", name="Calm", exact=True).click()
    expect(explain).to_have_text("Calm: moves toward quiet, gentle music.")
    assert page.locator("#strategy-group [title]").count() == 0, "explanations must not hide in tooltips"


def test_model_card_and_privacy_statement_are_linked_pages(page: Any) -> None:
    page.get_by_role("link", name="Model card", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Model card")
    expect(page.locator(".doc-text")).to_contain_text("FER2013")
    page.go_back()
    page.get_by_role("link", name="Privacy statement", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy statement")
    expect(page.locator("main")).to_contain_text("analysed in memory and dropped")


def test_history_is_off_until_switched_on(page: Any) -> None:
    page.get_by_role("button", name="History").click()
    switch = page.get_by_role("switch", name="Keep a history of my lists")
    expect(switch).to_be_visible()
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(page.locator("#history-consent-note")).to_contain_text("Off until you turn it on")

    # The switch flips at once; wait for the server's answer before asking it again (a GET sent
    # while the PUT was still running read "not chosen" one run in a few dozen).
    def is_put(response: Any) -> bool:
        return bool(response.url.endswith("/api/history/consent") and response.request.method == "PUT")

    with page.expect_response(is_put) as answered:
        switch.click()
    assert answered.value.request.post_data_json == {"history": True} and answered.value.ok
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(switch).to_be_focused()
    assert page.evaluate("() => fetch('/api/history/consent').then((r) => r.json())")["history"] is True
    page.get_by_role("button", name="Close").click()
    expect(page.get_by_role("button", name="History")).to_be_focused()
    pick_by_hand(page, "happy")
    page.get_by_role("button", name="History").click()
    expect(page.locator("#history-list > li").first).not_to_contain_text("this visit only")


@pytest.mark.parametrize("mode", ["manual", "camera"])
def test_phone_shows_the_list_on_the_first_screen_with_big_targets(browser: Any, server: Server, mode: str) -> None:
    with watched_page(browser, server, width=390, height=844) as page:
        if mode == "manual":
            pick_by_hand(page, "happy")
        else:
            page.get_by_role("button", name="Start camera").click()
            expect(page.locator("#result-list > li").first).to_be_visible()
            expect(page.locator("#camera-stage .camera-on")).to_be_visible()
        page.evaluate("window.scrollTo(0, 0)")
        top = page.locator("#result-list > li").first.bounding_box()["y"]
        assert top < 844 - 100, f"the list starts at {top:.0f} px on an 844-px screen"
        video = page.locator("#video").bounding_box()
        assert mode == "manual" or video["height"] <= 160, f"camera bar is {video['height']:.0f} px tall"
        assert page.evaluate(SMALL_TARGETS) == []
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0


def test_play_offline_says_so_and_keeps_the_link(page: Any) -> None:
    # This machine has no network: make that certain for the player hosts.
    page.route("https://widget.deezer.com/**", lambda route: route.abort("internetdisconnected"))
    pick_by_hand(page, "happy")
    item = page.locator("#result-list > li").nth(page.evaluate(FIRST_PLAYABLE))
    play = item.locator(".play-btn")
    play.focus()
    page.keyboard.press("Enter")
    status = item.locator(".play-status")
    expect(status).to_contain_text("can't load")
    expect(status).to_contain_text("offline")
    expect(item.locator("a.link")).to_be_visible()
    expect(item.locator("a.link")).to_contain_text("Open on")
    expect(item.locator("iframe")).to_have_count(0)
    expect(play).to_be_focused()


def test_play_online_embeds_the_player(page: Any) -> None:
    page.route(
        "https://widget.deezer.com/**",
        lambda route: route.fulfill(body="<!doctype html><title>player</title>", content_type="text/html"),
    )
    pick_by_hand(page, "happy")
    item = page.locator("#result-list > li").nth(page.evaluate(FIRST_PLAYABLE))
    item.locator(".play-btn").click()
    expect(item.locator("iframe.player")).to_have_attribute("src", re.compile(r"^https://widget\.deezer\.com/"))
    expect(item.locator("a.link")).to_be_visible()


def test_previews_play_in_one_small_persistent_player(page: Any) -> None:
    serve_previews(page)
    pick_by_hand(page, "happy")
    first = page.locator("#result-list > li").first
    title = first.locator(".title").text_content()
    preview = first.get_by_role("button", name=re.compile("30-second preview"))
    preview.click()
    bar = page.get_by_role("region", name="Preview player")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text(title)
    expect(page.locator("#mini-status")).to_contain_text("can't load")
    # The player stays while the list changes under it.
    page.get_by_role("button", name="Energize").click()
    expect(page.locator("#results-status")).to_contain_text("energize")
    expect(bar).to_be_visible()
    page.get_by_role("button", name="Close preview").click()
    expect(bar).to_be_hidden()


def test_modules_load_in_parallel_and_static_files_are_cached_for_good(page: Any, server: Server) -> None:
    waves = page.evaluate(
        """() => performance.getEntriesByType("resource")
          .filter((e) => e.name.includes("/static/v/") && e.name.endsWith(".js"))
          .map((e) => e.startTime)"""
    )
    assert len(waves) >= 10
    # All modules are requested within one moment (modulepreload), not one import level at a time.
    assert max(waves) - min(waves) < 50, waves
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    cached = page.evaluate(
        """() => performance.getEntriesByType("resource")
          .filter((e) => e.name.includes("/static/v/"))
          .map((e) => [e.name, e.transferSize])"""
    )
    # On the second visit nothing under /static/v/ goes to the network (transferSize 0: from cache).
    assert cached and all(size == 0 for _, size in cached), cached
