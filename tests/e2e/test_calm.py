"""Issue 13, point 3: calm live updates. A face that comes and goes every 0.1–0.6 s must not make the
page chatter: announcements only for a settled mood, at most one every few seconds; a switch pauses
everything; a new mood offers a new list instead of swapping it; reduced motion slows the redraws."""

from __future__ import annotations

import itertools
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from browsertools import (
    COUNT_ANALYZE_STARTS,
    COUNT_ANNOUNCEMENTS,
    RECORD_MOOD_ANNOUNCEMENTS,
    fake_analyzer,
    watch_text,
    write_changing_face_video,
)

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: The page may say something at most once in this many seconds (calm.js GAP_MS), plus the list's
#: own status lines when a list loads.
GAP_S = 5.0

# Counts face boxes drawn and taken off the picture: proof that the face really keeps coming and
# going (the words about it hold through such moments since session 37, the boxes do not).
COUNT_BOX_CHANGES = """() => {
  window.__boxChanges = 0;
  new MutationObserver((records) => {
    for (const r of records) window.__boxChanges += r.addedNodes.length + r.removedNodes.length;
  }).observe(document.querySelector("#camera-overlay"), { childList: true });
}"""


@pytest.fixture(scope="module")
def face_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's fake camera: a face that keeps appearing and disappearing."""
    return write_changing_face_video(tmp_path_factory.mktemp("camera") / "restless.y4m")


def test_a_restless_face_is_announced_calmly(page: Any) -> None:
    page.evaluate(COUNT_ANNOUNCEMENTS)
    page.evaluate(COUNT_BOX_CHANGES)
    page.evaluate(RECORD_MOOD_ANNOUNCEMENTS)
    page.get_by_role("button", name="Start camera").click()
    page.wait_for_timeout(30_000)
    announced = page.evaluate("window.__announced")
    said = page.evaluate("window.__moodSaid")
    changes = page.evaluate("window.__boxChanges")
    print(f"30 s of a restless face: {changes} boxes drawn or taken off, {len(announced)} announcements: {announced}")
    assert changes >= 20, f"the fake camera did not change enough ({changes} changes): the test proves nothing"
    assert len(announced) <= 30 / GAP_S + 3, announced
    times = [t for t, text in said if text]
    assert all(b - a >= GAP_S * 1000 - 50 for a, b in itertools.pairwise(times)), said
    page.get_by_role("button", name="Stop camera").click()


def test_pause_stops_frames_and_freezes_the_picture(page: Any) -> None:
    page.evaluate(COUNT_ANALYZE_STARTS)
    page.get_by_role("button", name="Start camera").click()
    page.wait_for_function("() => window.__analyzeStarts > 3")
    switch = page.get_by_role("switch", name="Pause live updates")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(switch).to_be_focused()
    expect(page.locator("#camera-stats")).to_contain_text("Paused")
    page.wait_for_timeout(300)  # the frame in flight, if any
    sent, overlay = page.evaluate("window.__analyzeStarts"), page.locator("#camera-overlay").inner_html()
    page.wait_for_timeout(2000)
    assert page.evaluate("window.__analyzeStarts") == sent
    assert page.locator("#camera-overlay").inner_html() == overlay
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "false")
    page.wait_for_function(f"() => window.__analyzeStarts > {sent + 2}")


def test_a_new_mood_offers_a_new_list_instead_of_swapping_it(page: Any) -> None:
    # Sad from 8 s: late enough that its words are due at once (no earlier announcement holds them
    # back), 0.5 s before the offer is (calm.js STABLE_MS against settle.js HOLD_MS).
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35), (8.0, "sad", -0.7, -0.4)])
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#results-mood")).to_contain_text("happy")
    first = page.locator("#result-list .title").all_text_contents()
    offer = page.locator("#new-list")
    expect(offer).to_be_visible(timeout=15_000)
    expect(offer).to_contain_text("New list ready")
    expect(page.locator("#mood-announce")).to_contain_text("sad")
    # Before, the mood was said 0.5 s before the offer came, and the offer never was.
    expect(page.locator("#mood-announce")).to_contain_text("A new list for it is ready: press Show it.", timeout=10_000)
    # Nothing moved under the person: same list, same mood.
    assert page.locator("#result-list .title").all_text_contents() == first
    expect(page.locator("#results-mood")).to_contain_text("happy")
    page.get_by_role("button", name="Show it").click()
    expect(page.locator("#results-mood")).to_contain_text("sad")
    expect(offer).to_be_hidden()
    page.wait_for_function(
        "() => document.activeElement.closest('#result-list > li') === document.querySelector('#result-list > li')"
    )
    assert page.locator("#result-list .title").all_text_contents() != first


def test_a_new_mood_and_its_offer_are_said_once(page: Any) -> None:
    """The mood settles (2 s) half a second before its offer (2.5 s): both go into one announcement."""
    page.evaluate(RECORD_MOOD_ANNOUNCEMENTS)
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35), (8.0, "sad", -0.7, -0.4)])
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#new-list")).to_be_visible(timeout=15_000)
    page.wait_for_timeout(int(GAP_S * 1000) + 1500)  # long enough for a second announcement to come
    said = [text for _, text in page.evaluate("window.__moodSaid") if "sad" in text]
    # Before: "Your face looks sad." then, 5 s later, the same words with the offer.
    assert said == ["Your face looks sad. A new list for it is ready: press Show it."], said


def test_a_refused_first_list_is_asked_for_again_calmly_and_comes_once_the_server_answers(page: Any) -> None:
    """The list store refuses (503, Retry-After 5) while frames still work: the camera must not ask
    for its first list, and say that it failed, every second."""
    asked: list[float] = []

    def refuse(route: Any) -> None:
        asked.append(time.monotonic())
        body = {"error": {"code": "store_unavailable", "message": "the history store is not answering"}}
        route.fulfill(status=503, content_type="application/json", headers={"Retry-After": "5"}, body=json.dumps(body))

    page.route("**/api/lists?*", refuse)
    page.evaluate(COUNT_ANNOUNCEMENTS)
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.get_by_role("button", name="Start camera").click()
    page.wait_for_timeout(20_000)
    spoken = page.evaluate("window.__announced")
    # Before: 16 requests and 32 status lines in 20 s. Now: at 1 s, then each time the server's
    # Retry-After (5 s) is over and the face has settled again (1 s): never sooner than it asked.
    assert 2 <= len(asked) <= 4, [round(t - asked[0], 1) for t in asked]
    assert all(b - a >= 5.0 for a, b in itertools.pairwise(asked)), asked
    assert len(spoken) <= 2 * len(asked) + 2, spoken
    page.unroute("**/api/lists?*")
    expect(page.locator("#result-list > li").first).to_be_visible(timeout=45_000)


def _moving_face(page: Any) -> None:
    """A happy face whose box moves a pixel with every frame: each redraw moves the box (boxes are
    moved in place, so an unchanged one writes nothing to be seen)."""
    frames = itertools.count()
    probabilities = {e: (0.9 if e == "happy" else 0.1 / 6) for e in EMOTIONS}

    def moved(route: Any) -> None:
        face = {
            "box": [200 + next(frames) % 40, 120, 220, 220],
            "emotion": "happy",
            "confidence": 0.9,
            "uncertain": False,
            "probabilities": probabilities,
        }
        mood = {"valence": 0.8, "arousal": 0.35, "emotion": "happy", "source": "face"}
        body = {"faces": [face], "image": {"width": 640, "height": 480}, "mood": mood, "stream": "s", "elapsed_ms": 1.0}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/analyze?stream=*", moved)


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_reduced_motion_slows_boxes_and_bars(page: Any, motion: str) -> None:
    page.emulate_media(reduced_motion=motion)
    _moving_face(page)
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#camera-overlay .face-box")).to_have_count(1)
    page.evaluate(
        """() => {
          window.__since = performance.now();
          window.__redrawn = [];
          const overlay = document.querySelector("#camera-overlay");
          // One callback per redraw (its records come together): a box moved, added or removed.
          new MutationObserver(() => window.__redrawn.push(performance.now()))
            .observe(overlay, { childList: true, subtree: true, attributes: true, characterData: true });
          window.__bars = 0;
          const bars = document.querySelector("#bars");
          new MutationObserver(() => window.__bars++).observe(bars, { subtree: true, attributes: true });
        }"""
    )
    page.evaluate(COUNT_ANALYZE_STARTS)
    # 2.5 s and twelve frames, however long those take: a fixed 3 s on a busy machine held too few to judge by.
    page.wait_for_function("() => window.__analyzeStarts >= 12 && performance.now() - window.__since >= 2500")
    seen = page.evaluate(
        """() => ({ frames: window.__analyzeStarts, redrawn: window.__redrawn, bars: window.__bars,
                   seconds: (performance.now() - window.__since) / 1000 })"""
    )
    frames, redrawn, seconds = seen["frames"], seen["redrawn"], seen["seconds"]
    print(f"{motion}: {frames} frames, {len(redrawn)} overlay redraws in {seconds:.1f} s")
    if motion == "reduce":
        # Once a second at most (measured in the page, so a slow machine cannot make it look faster);
        # a little under 1000 ms for the time between the page's clock reading and the observer's.
        gaps = [round(b - a) for a, b in itertools.pairwise(redrawn)]
        assert len(redrawn) >= 2 and all(gap >= 900 for gap in gaps), gaps
        assert seen["bars"] <= (seconds + 1) * 7 * 2
        assert frames >= len(redrawn) + 2, "frames came slower than one a second: nothing was held back"
    else:
        assert len(redrawn) >= frames / 2


def test_announcer_rules_with_a_made_up_clock(page: Any) -> None:
    """calm.js in the browser: settled for 2 s, short gaps ignored, at most one line per 5 s."""
    said = page.evaluate(
        """async () => {
          const entry = document.querySelector('script[type="module"]').src;
          const { Announcer } = await import(entry.replace("app.js", "calm.js"));
          const out = [];
          const a = new Announcer((text) => out.push(text), (label) => label === null ? "none" : label);
          const feed = (label, from, to, step = 100) => { for (let t = from; t <= to; t += step) a.update(label, t); };
          feed("happy", 0, 2100);          // settled after 2 s: said at 2000
          feed(null, 2200, 2700);          // a short gap: ignored
          feed("happy", 2800, 3000);
          feed("sad", 3100, 7000);         // settled at 5100, but said only 5 s after "happy": 7000
          feed(null, 7100, 12000);         // no face for 4 s counts, said once the 5-s gap allows
          // Flapping between two moods every half second: never settles.
          for (let i = 0; i < 20; i++) a.update(i % 2 ? "sad" : "happy", 12100 + 500 * i);
          return out;
        }"""
    )
    assert said == ["happy", "sad", "none"]


def _said_at(page: Any, steps: str, words: str = "(label) => label") -> list[str]:
    """What calm.js's Announcer says, as ``words@ms``, for ``steps``: JavaScript run with ``a`` (the
    Announcer, saying a label as itself, or as the JavaScript function ``words`` says) and ``t``
    (the time in ms, from 0) in scope."""
    script = (
        "async () => {"
        " const entry = document.querySelector('script[type=\"module\"]').src;"
        ' const { Announcer } = await import(entry.replace("app.js", "calm.js"));'
        " const out = [];"
        " const a = new Announcer((text) => out.push(`${text}@${t}`), " + words + ");"
        " let t = 0;" + steps + " return out; }"
    )
    said: list[str] = page.evaluate(script)
    return said


def test_a_mood_the_list_is_deciding_about_waits_for_the_decision(page: Any) -> None:
    said = _said_at(
        page,
        """
          for (; t <= 2400; t += 100) a.update("sad", t, { hold: true });   // settled at 2000, held
          a.addNews("sad");                                                  // the offer, at 2500
          for (; t <= 3000; t += 100) a.update("sad", t);
          for (; t <= 9000; t += 100) a.update(null, t, { hold: true });     // "no face" is never held
        """,
    )
    assert said == ["sad@2500", "null@7500"]


def test_the_same_news_is_said_again_only_after_another_mood(page: Any) -> None:
    """calm.js: before, news added again for the label just said with it (the offer coming back as
    the face flickered) was said again, every time."""
    said = _said_at(
        page,
        """
          a.addNews("sad");
          for (; t <= 6000; t += 100) a.update("sad", t);     // said with its news at 2000
          a.addNews("sad");                                     // the same offer, back again
          for (; t <= 12000; t += 100) a.update("sad", t);    // nothing new: silence
          for (; t <= 15000; t += 100) a.update("happy", t);  // another mood, said at 14100
          a.addNews("sad");
          for (; t <= 21000; t += 100) a.update("sad", t);    // news again after it: said at 19100 (5 s gap)
        """,
    )
    assert said == ["sad@2000", "happy@14100", "sad@19100"], said


def test_an_offer_that_went_away_and_comes_back_is_said_again(page: Any) -> None:
    """A review: once an offer for "sad" had been said, a later, new offer for "sad" (the first one
    taken with "Show it", then a list picked by hand) was never said, though it was on screen."""
    said = _said_at(
        page,
        """
          a.addNews("sad");
          for (; t <= 6000; t += 100) a.update("sad", t);     // said with its news at 2000
          a.forgetNews();                                       // the offer is taken
          a.addNews("sad");                                     // a new offer for sad, later
          for (; t <= 12000; t += 100) a.update("sad", t);    // said again once the 5 s gap allows
        """,
    )
    assert said == ["sad@2000", "sad@7000"], said


def test_news_for_the_face_said_last_is_marked_as_the_same_face(page: Any) -> None:
    """calm.js tells ``words`` when the face is the one said last (``sameFace``), so that its words
    are not said twice for one change of face: the offer turning to angry 15 s after the face did."""
    said = _said_at(
        page,
        """
          for (; t <= 3000; t += 100) a.update("angry", t);   // said at 2000, no news
          a.addNews("angry");                                   // the offer turns to the same face
          for (; t <= 8000; t += 100) a.update("angry", t);   // said at 7000 (5 s gap): same face
          for (; t <= 13000; t += 100) a.update("sad", t);    // another face: said at 12000
          a.addNews("angry");                                   // news for another mood than the face's
          for (; t <= 18000; t += 100) a.update("sad", t);    // said at 17000, the face unchanged
        """,
        words="(label, news, saidNews, sameFace) => `${sameFace ? 'same' : label}:${news}`",
    )
    assert said == ["angry:undefined@2000", "same:angry@7000", "sad:undefined@12000", "same:angry@17000"], said


def test_an_offer_in_use_is_not_pulled_from_under_the_keyboard(page: Any) -> None:
    """The face goes back to the list's mood while focus is on "Show it": the offer stays (saying the
    mood was a moment ago) until focus leaves it, instead of vanishing and dropping focus to <body>."""
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35), (4.0, "sad", -0.7, -0.4), (10.0, "happy", 0.8, 0.35)])
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#results-mood")).to_contain_text("happy")
    show = page.get_by_role("button", name="Show it")
    expect(show).to_be_visible(timeout=15_000)
    show.focus()
    offer = page.locator("#new-list")
    expect(offer).to_contain_text("a moment ago", timeout=20_000)
    expect(show).to_be_focused()
    expect(show).to_be_visible()
    page.keyboard.press("Shift+Tab")
    expect(offer).to_be_hidden()
    assert page.evaluate("document.activeElement !== document.body")
    expect(page.locator("#results-mood")).to_contain_text("happy")


def test_an_offer_does_not_move_the_list_under_the_pointer(page: Any) -> None:
    """The pointer rests on a Like button while the mood changes: the offer appears above the list,
    and the button under the pointer is still the same one."""
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35), (4.0, "sad", -0.7, -0.4)])
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#results-mood")).to_contain_text("happy")
    like = page.locator("#result-list > li").nth(2).locator(".fb-like")
    like.scroll_into_view_if_needed()
    before = like.bounding_box()
    page.mouse.move(before["x"] + before["width"] / 2, before["y"] + before["height"] / 2)
    expect(page.locator("#new-list")).to_be_visible(timeout=15_000)
    after = like.bounding_box()
    assert abs(after["y"] - before["y"]) < 1, f"the list moved {after['y'] - before['y']:.0f} px under the pointer"
    page.get_by_role("button", name="Stop camera").click()


def test_mood_news_made_while_the_history_dialog_is_open_is_said_after_it_closes(page: Any) -> None:
    """Before: the mood and its offer were written into the live region while History (a modal
    dialog) was open, when the rest of the page is inert and out of a screen reader's reach, and
    nothing was said once it closed: the news was never heard."""
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#mood-announce")).to_have_text("Your face looks happy.", timeout=15_000)
    page.evaluate(RECORD_MOOD_ANNOUNCEMENTS)
    page.locator("#history-open").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#history-dialog")).to_be_visible()
    fake_analyzer(page, [(0.0, "sad", -0.7, -0.4)])
    expect(page.locator("#new-list")).to_be_visible(timeout=15_000)
    page.wait_for_timeout(int(GAP_S * 1000) + 1000)  # the news would have been said by now
    said_while_open = [text for _, text in page.evaluate("window.__moodSaid") if text]
    assert not said_while_open, said_while_open
    page.keyboard.press("Escape")
    expect(page.locator("#history-open")).to_be_focused()
    expect(page.locator("#mood-announce")).to_have_text(
        "Your face looks sad. A new list for it is ready: press Show it."
    )


# Texts the camera's stats line takes while it runs: figures of every width, and the pause.
STATS_TEXTS = [
    "0.5 frames/s · 9 ms",
    "15.0 frames/s · 99 ms",
    "12.5 frames/s · 999 ms",
    "15.0 frames/s · 9999 ms",
    "Paused: no frames sent.",
]


def test_the_camera_stats_line_keeps_its_place(page: Any) -> None:
    """Before: right-aligned with room for 11em, the line moved 7 px sideways whenever the latency
    gained a digit (80–94 layout shifts a minute on the desktop page)."""
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#camera-overlay .face-box")).to_have_count(1)
    page.get_by_role("switch", name="Pause live updates").click()  # the frames no longer write it
    expect(page.locator("#camera-stats")).to_have_text("Paused: no frames sent.")
    stats = page.locator("#camera-stats")
    places: dict[str, tuple[int, int, int]] = {}
    for text in STATS_TEXTS:
        stats.evaluate("(el, text) => { el.textContent = text; }", text)
        box = stats.bounding_box()
        places[text] = (round(box["x"]), round(box["y"]), round(box["width"]))
    assert len(set(places.values())) == 1, places


# The offer box: every show/hide, and every change of its words.
RECORD_OFFER_CHANGES = """() => {
  window.__offer = [];
  const box = document.querySelector("#new-list");
  const text = document.querySelector("#new-list-text");
  let last = null;
  const note = () => {
    const now = box.hidden ? "hidden" : text.textContent;
    if (now !== last) window.__offer.push([performance.now(), now]);
    last = now;
  };
  new MutationObserver(note).observe(box, { attributes: true, attributeFilter: ["hidden"] });
  new MutationObserver(note).observe(text, { childList: true, characterData: true, subtree: true });
}"""


def test_a_flickering_mood_offers_its_list_once_and_says_it_once(page: Any) -> None:
    """Before: a face flickering happy↔sad every 3 s said "Your face looks sad. A new list for it is
    ready: press Show it." again and again, and the offer came and went (and its words changed
    under a resting pointer) at the flicker's rhythm."""
    flicker = [(0.0, "happy", 0.8, 0.35)]
    for i in range(12):
        happy = i % 2 == 1
        flicker.append((4.0 + 3.0 * i, "happy" if happy else "sad", 0.8 if happy else -0.7, 0.35 if happy else -0.4))
    fake_analyzer(page, flicker)
    page.evaluate(RECORD_MOOD_ANNOUNCEMENTS)
    page.evaluate(RECORD_OFFER_CHANGES)
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#results-mood")).to_contain_text("happy")
    offer = page.locator("#new-list")
    expect(offer).to_be_visible(timeout=15_000)
    box = offer.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # a resting pointer
    page.evaluate("() => { window.__offer = []; }")
    page.wait_for_timeout(20_000)  # seven flips of the face
    said = [text for _, text in page.evaluate("window.__moodSaid") if text]
    changes = [what for _, what in page.evaluate("window.__offer")]
    print(f"said: {said}\noffer: {changes}")
    assert "sad" in said[-1] or any("happy" in line for line in said), "the face did not flicker: proves nothing"
    repeated = [a for a, b in itertools.pairwise(said) if a == b]
    assert not repeated, f"said twice in a row: {repeated}"
    news = [line for line in said if "A new list for it is ready" in line]
    # Said with the offer again only after another mood was said in between.
    assert len(news) <= 1 + sum(1 for line in said if "happy" in line), said
    # The offer appeared once and stayed as it was, under the pointer, while the face flickered.
    assert not changes, changes
    expect(offer).to_contain_text("has looked sad for a few seconds")
    page.get_by_role("button", name="Stop camera").click()


def test_the_timeline_keeps_its_name_while_the_mood_holds(page: Any) -> None:
    """The timeline is an image named by its summary (aria-labelledby). Before: the summary counted
    the seconds ("Over the last 4 s", "5 s", …), so the image's name changed about once a second."""
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.get_by_role("button", name="Start camera").click()
    summary = page.locator("#timeline-summary")
    expect(summary).to_contain_text("Over the last")
    renamed = watch_text(page, "#timeline-summary")
    page.wait_for_timeout(8000)
    names = renamed()
    # At most one change in 8 s: "the last few seconds" becoming "the last 10 s".
    assert len(names) <= 1, names
    expect(summary).to_contain_text(re.compile(r"\(pleasant 0\.8, energetic 0\.[34]\)"))  # one decimal
    page.get_by_role("button", name="Stop camera").click()


def test_an_unchanged_mood_writes_nothing_and_bars_animate_without_layout(page: Any) -> None:
    """Before: every camera frame rebuilt the mood line and rewrote the summary, the bars and the
    live dot with the same values, and the bars animated their width (a layout every frame)."""
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35), (4.0, "sad", -0.7, -0.4)])
    page.evaluate(COUNT_ANALYZE_STARTS)
    page.evaluate(
        """() => {
          window.__transitions = [];
          document.addEventListener("transitionrun", (e) => {
            if (e.target.closest("#bars, #plane")) window.__transitions.push(e.propertyName);
          });
        }"""
    )
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#mood-now")).to_contain_text("Live mood: happy")
    page.wait_for_function("() => window.__analyzeStarts >= 4")
    page.evaluate(
        """() => {
          window.__writes = 0;
          window.__framesThen = window.__analyzeStarts;
          const watched = ["#mood-now", "#faces-summary", "#bars", "#plane .live-dot"];
          const observer = new MutationObserver((records) => { window.__writes += records.length; });
          for (const selector of watched) {
            observer.observe(document.querySelector(selector),
              { childList: true, characterData: true, subtree: true, attributes: true });
          }
        }"""
    )
    page.wait_for_function("() => window.__analyzeStarts >= window.__framesThen + 6")
    writes = page.evaluate("window.__writes")
    assert writes == 0, f"{writes} DOM writes for six frames of the same mood"
    expect(page.locator("#mood-now")).to_contain_text("Live mood: sad", timeout=10_000)
    transitions = page.evaluate("window.__transitions")
    assert "width" not in transitions and "transform" in transitions, transitions
    page.get_by_role("button", name="Stop camera").click()
