"""Issue 13, points 1 and 2: each mode owns its resources, and keyboard focus always lands somewhere
sensible (never on <body>), with one Tab stop per list item and a visible, contrasting focus ring."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from browsertools import (
    COUNT_ANALYZE_STARTS,
    FOCUS_RING,
    SET_HIDDEN,
    Server,
    astronaut_rgb,
    fake_analyzer,
    jpeg_bytes,
    pick_by_hand,
    watched_page,
)

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

FOCUSED = "document.activeElement === document.body ? 'BODY' : (document.activeElement.id || '')"
FOCUSED_ITEM = "[...document.querySelectorAll('#result-list > li')].indexOf(document.activeElement.closest('li'))"


def test_leaving_camera_mode_ends_the_tracks_and_the_frames(streams_page: Any) -> None:
    page = streams_page
    page.evaluate(COUNT_ANALYZE_STARTS)
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#camera-overlay .face-box").first).to_be_visible()
    expect(page.locator("#results-mood")).to_contain_text("from the camera")
    # Camera on is said next to the video and next to the list, each with a Stop control.
    expect(page.locator("#camera-stage .camera-on")).to_be_visible()
    expect(page.locator("#results-camera")).to_be_visible()
    expect(page.locator("#mood-now")).to_contain_text("Live mood")
    assert page.evaluate("window.__analyzeStarts") > 0

    page.get_by_role("tab", name="Pick by hand").click()
    at_switch = page.evaluate("window.__analyzeStarts")
    page.wait_for_timeout(3000)
    assert page.evaluate("window.__analyzeStarts") == at_switch, "frames were sent after leaving camera mode"
    states = page.evaluate("window.__streams.flatMap((s) => s.getTracks().map((t) => t.readyState))")
    assert states and set(states) == {"ended"}, states
    assert page.evaluate("document.querySelector('#video').srcObject") is None
    expect(page.locator("#results-camera")).to_be_hidden()
    # No camera state in this mode: the readout says so, the bars are empty, the mood is the list's.
    expect(page.locator("#faces-summary")).to_have_text("No face is read when you pick a mood by hand.")
    expect(page.locator("#bars .bar-value").first).to_have_text("–")
    expect(page.locator("#mood-now")).not_to_contain_text("Live")
    expect(page.locator("#plane .live-dot")).to_have_class("live-dot hidden")


def test_arrowing_along_the_tabs_while_the_camera_runs_does_not_switch_it_off(streams_page: Any) -> None:
    page = streams_page
    page.evaluate(COUNT_ANALYZE_STARTS)
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#camera-overlay .face-box").first).to_be_visible()
    page.locator("#tab-camera").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-manual")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#tab-photo")).to_be_focused()
    # Only looked at: the camera still runs and its panel is still the one shown.
    expect(page.locator("#panel-camera")).to_be_visible()
    expect(page.locator("#tab-camera")).to_have_attribute("aria-selected", "true")
    sent = page.evaluate("window.__analyzeStarts")
    page.wait_for_function(f"() => window.__analyzeStarts > {sent + 2}")
    assert set(page.evaluate(TRACK_STATES)) == {"live"}
    # Choosing the tab (Enter) is what ends the camera, and a screen reader hears it.
    page.keyboard.press("Enter")
    expect(page.locator("#panel-photo")).to_be_visible()
    expect(page.locator("#tab-photo")).to_be_focused()
    assert set(page.evaluate(TRACK_STATES)) == {"ended"}
    expect(page.locator("#mood-announce")).to_have_text("Camera off.")


# The browser hands the camera over 3 s late (a permission prompt the person has not answered yet);
# every stream it hands over is kept, and /api/analyze requests are counted from the start.
SLOW_CAMERA = """
window.__streams = [];
window.__analyzeStarts = 0;
const __slowGum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (c) => {
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const s = await __slowGum(c);
  window.__streams.push(s);
  return s;
};
const __countingFetch = window.fetch;
window.fetch = (...args) => {
  if (String(args[0]).includes("/api/analyze")) window.__analyzeStarts++;
  return __countingFetch(...args);
};
"""


@pytest.mark.parametrize("how", ["use-a-photo", "arrow-then-enter"])
def test_leaving_camera_mode_while_the_browser_asks_for_the_camera_cancels_the_start(
    browser: Any, server: Server, how: str
) -> None:
    """Before: the camera came on 3 s later anyway, in the hidden camera panel, its track live and
    frames sent (34–37 in 6 s), "Camera on" beside the list and a list made "from the camera"."""
    with watched_page(browser, server, init_script=SLOW_CAMERA) as page:
        page.locator("#camera-start").focus()
        page.keyboard.press("Enter")
        if how == "use-a-photo":
            page.keyboard.press("Tab")
            expect(page.locator("#camera-intro [data-goto=photo]")).to_be_focused()
            page.keyboard.press("Enter")
        else:
            page.locator("#tab-camera").focus()
            page.keyboard.press("ArrowRight")
            # Being started counts as running: the arrow only moves focus along the tabs.
            expect(page.locator("#tab-photo")).to_be_focused()
            expect(page.locator("#tab-camera")).to_have_attribute("aria-selected", "true")
            page.keyboard.press("Enter")
        expect(page.locator("#tab-photo")).to_have_attribute("aria-selected", "true")
        expect(page.locator("#tab-photo")).to_be_focused()
        assert page.evaluate("window.__streams.length") == 0, "the test left camera mode too late"
        # The browser hands the camera over after all: its track must end at once, nothing sent.
        page.wait_for_function("() => window.__streams.length === 1", timeout=10_000)
        page.wait_for_timeout(1500)
        assert set(page.evaluate(TRACK_STATES)) == {"ended"}
        assert page.evaluate("window.__analyzeStarts") == 0, "frames were sent after leaving camera mode"
        expect(page.locator("#camera-stage")).to_be_hidden()
        expect(page.locator("#results-camera")).to_be_hidden()
        expect(page.locator("#faces-summary")).to_have_text("No photo yet.")
        expect(page.locator("#result-list > li")).to_have_count(0)


def test_starting_the_camera_again_does_not_leave_camera_off_said(page: Any) -> None:
    """Before: "Camera off.", said on leaving camera mode, stayed in the mood's status region while
    the camera was on again (nobody in view, so nothing else replaced it)."""
    fake_analyzer(page, [(0.0, None, 0.0, 0.0)])
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#results-camera")).to_be_visible()
    page.get_by_role("tab", name="Photo").click()
    expect(page.locator("#mood-announce")).to_have_text("Camera off.")
    page.get_by_role("tab", name="Camera").click()
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#results-camera")).to_be_visible()
    expect(page.locator("#mood-announce")).to_have_text("")


def _camera_follows_again_after_a_hand_pick(page: Any) -> None:
    """Pick happy by hand, start the camera (which sees sad), follow the face again and show its list.

    Asserts along the way that "Follow my face again" is offered when the camera starts over a list
    made another way, and that following it gives the camera's list.
    """
    fake_analyzer(page, [(0.0, "sad", -0.7, -0.4)])
    pick_by_hand(page, "happy")
    page.get_by_role("tab", name="Camera").click()
    page.get_by_role("button", name="Start camera").click()
    follow = page.get_by_role("button", name="Follow my face again")
    expect(follow).to_be_visible()
    follow.click()
    page.get_by_role("button", name="Show it").click(timeout=15_000)
    expect(page.locator("#results-mood")).to_contain_text("sad")
    expect(page.locator("#results-mood")).to_contain_text("from the camera")


def test_a_list_made_before_the_camera_started_offers_to_follow_the_face(page: Any) -> None:
    """A list picked by hand, then the camera: the page must offer the way back to the face."""
    _camera_follows_again_after_a_hand_pick(page)


def test_a_list_reopened_from_history_while_the_camera_runs_offers_to_follow_the_face(page: Any) -> None:
    _camera_follows_again_after_a_hand_pick(page)
    page.locator("#history-open").click()
    page.locator("#history-list > li").filter(has_text="happy").get_by_role("button", name="Show this list").click()
    expect(page.locator("#results-mood")).to_contain_text("happy")
    expect(page.get_by_role("button", name="Follow my face again")).to_be_visible()


TRACK_STATES = "window.__streams.flatMap((s) => s.getTracks().map((t) => t.readyState))"


def test_a_hidden_page_lets_go_of_the_camera_and_takes_it_back(streams_page: Any) -> None:
    page = streams_page
    page.evaluate(COUNT_ANALYZE_STARTS)
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#camera-stop")).to_be_focused()
    page.wait_for_function("() => window.__analyzeStarts > 2")

    page.evaluate(SET_HIDDEN, True)
    page.wait_for_function(f"() => {TRACK_STATES}.every((state) => state === 'ended')")
    page.wait_for_timeout(300)  # the frame in flight, if any
    sent = page.evaluate("window.__analyzeStarts")
    page.wait_for_timeout(1500)
    assert page.evaluate("window.__analyzeStarts") == sent, "frames were sent while the page was hidden"

    page.evaluate(SET_HIDDEN, False)
    page.wait_for_function(f"() => {TRACK_STATES}.includes('live')")
    page.wait_for_function(f"() => window.__analyzeStarts > {sent + 2}")
    # Nothing moved for the person: still camera mode, focus still on Stop.
    expect(page.locator("#camera-stop")).to_be_focused()
    expect(page.locator("#camera-stage")).to_be_visible()
    # Shown and hidden again before the browser hands the camera back: it must not stay on.
    streams = page.evaluate("window.__streams.length")
    page.evaluate(f"() => {{ ({SET_HIDDEN})(true); ({SET_HIDDEN})(false); ({SET_HIDDEN})(true); }}")
    page.wait_for_function(f"() => window.__streams.length > {streams}")
    page.wait_for_function(f"() => {TRACK_STATES}.every((state) => state === 'ended')")
    page.evaluate(SET_HIDDEN, False)
    page.wait_for_function(f"() => {TRACK_STATES}.includes('live')")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => {TRACK_STATES}.every((state) => state === 'ended')")


# The browser gives the camera once; asked again (the page back in sight) another program has it.
CAMERA_ONCE = """
window.__gumCalls = 0;
const __onceGum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (c) => {
  if (++window.__gumCalls > 1) throw new DOMException("Could not start video source", "NotReadableError");
  return __onceGum(c);
};
"""


def test_focus_goes_to_the_explanation_when_the_camera_cannot_be_had_again(browser: Any, server: Server) -> None:
    """Before: with focus on the list's "Stop" (outside the camera panel, hidden with the camera),
    focus fell to <body>; only focus inside the camera panel went to the explanation."""
    with watched_page(browser, server, init_script=CAMERA_ONCE) as page:
        fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
        page.get_by_role("button", name="Start camera").click()
        stop = page.locator("#results-camera-stop")
        expect(stop).to_be_visible()
        stop.focus()
        page.evaluate(SET_HIDDEN, True)
        page.evaluate(SET_HIDDEN, False)
        expect(page.locator("#camera-problem-text")).to_contain_text("in use by another program")
        expect(page.locator("#camera-problem-text")).to_be_focused()


# Pastes the astronaut as a file, from wherever focus is (as Ctrl+V does).
PASTE_PHOTO = """(b64) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], "astronaut.jpg", { type: "image/jpeg" }));
  const paste = new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true });
  document.activeElement.dispatchEvent(paste);
}"""


@pytest.mark.parametrize("control", ["#pause-live", "#results-camera-stop"])
def test_a_photo_pasted_from_a_camera_control_puts_focus_on_the_photo_tab(page: Any, control: str) -> None:
    """Before: the paste switched to photo mode and hid the focused camera control: focus fell to
    <body>, and was still there once the photo's list had loaded."""
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator(control)).to_be_visible()
    page.locator(control).focus()
    page.evaluate(PASTE_PHOTO, base64.b64encode(jpeg_bytes(astronaut_rgb())).decode("ascii"))
    expect(page.locator("#tab-photo")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#tab-photo")).to_be_focused()
    expect(page.locator("#results-mood")).to_contain_text("from your photo")
    expect(page.locator("#tab-photo")).to_be_focused()


def test_a_photo_pasted_while_the_history_dialog_is_open_changes_nothing_behind_it(page: Any) -> None:
    """Before: Ctrl+V with History (a modal dialog) open stopped the camera, switched to photo mode
    and swapped the list, all behind the dialog, where nobody could see or hear it."""
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#results-mood")).to_contain_text("happy")
    page.locator("#history-open").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#history-dialog")).to_be_visible()
    page.locator("#history-close").focus()
    page.evaluate(PASTE_PHOTO, base64.b64encode(jpeg_bytes(astronaut_rgb())).decode("ascii"))
    page.wait_for_timeout(1000)
    expect(page.locator("#tab-camera")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#camera-stage")).to_be_visible()
    expect(page.locator("#photo-message")).not_to_contain_text("Analysing")
    expect(page.locator("#history-close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#results-mood")).not_to_contain_text("from your photo")


def test_hand_picked_mood_never_shows_the_photos_reading(page: Any) -> None:
    page.get_by_role("tab", name="Photo").click()
    page.set_input_files(
        "#photo-input", files=[{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(astronaut_rgb())}]
    )
    expect(page.locator("#faces-summary")).to_contain_text("1 face")
    pick_by_hand(page, "sad")
    expect(page.locator("#faces-summary")).not_to_contain_text("face:")
    expect(page.locator("#results-mood")).to_contain_text("sad")
    expect(page.locator("#mood-now")).to_contain_text("sad")
    # Back in photo mode, the photo's own reading comes back.
    page.get_by_role("tab", name="Photo").click()
    expect(page.locator("#faces-summary")).to_contain_text("1 face")


def test_focus_follows_start_stop_and_the_camera_chip(page: Any) -> None:
    page.locator("#camera-start").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#camera-stop")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#camera-start")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#results-camera-stop")).to_be_visible()
    page.locator("#results-camera-stop").click()
    expect(page.locator("#camera-start")).to_be_focused()
    expect(page.locator("#camera-stage")).to_be_hidden()


def test_focus_goes_to_the_explanation_when_the_camera_is_denied(browser: Any, server: Server) -> None:
    refuse = 'navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("no", "NotAllowedError"));'
    with watched_page(browser, server, init_script=refuse) as page:
        page.locator("#camera-start").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#camera-problem-text")).to_be_focused()
        expect(page.locator("#camera-problem-text")).to_contain_text("blocked")


def test_the_camera_problem_alert_is_the_message_alone(browser: Any, server: Server) -> None:
    """Before: role="alert" sat on the box with the three ways out, so the alert read their names
    too ("Use a photo Pick a mood by hand Try the camera again"), and focus then read the message."""
    refuse = 'navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("no", "NotAllowedError"));'
    with watched_page(browser, server, init_script=refuse) as page:
        page.get_by_role("button", name="Start camera").click()
        alert = page.get_by_role("alert")
        expect(alert).to_have_count(1)
        expect(alert).to_have_text(re.compile(r"^Camera access was blocked\..*pick your mood by hand\.$"))
        expect(page.locator("#camera-problem").get_by_role("button", name="Try the camera again")).to_be_visible()


# /api/lists answers 3 s late once window.__slowLists is set: time to Tab into the list on screen.
SLOW_LISTS = """
window.__slowLists = false;
const __listsFetch = window.fetch;
window.fetch = async (...args) => {
  const reply = await __listsFetch(...args);
  if (window.__slowLists && String(args[0]).includes("/api/lists")) await new Promise((r) => setTimeout(r, 3000));
  return reply;
};
"""


def test_focus_moved_into_the_old_list_while_a_new_one_loads_lands_in_the_new_one(browser: Any, server: Server) -> None:
    """Before: where focus was counted when the load began (on "Videos"); focus on the old list's
    second item then fell to <body> when the new list replaced it."""
    with watched_page(browser, server, init_script=SLOW_LISTS) as page:
        pick_by_hand(page, "happy")
        page.evaluate("window.__slowLists = true")
        page.get_by_role("button", name="Videos").focus()
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")  # "Not my mood"
        page.keyboard.press("Tab")  # the first item of the list on screen
        page.keyboard.press("ArrowDown")
        assert page.evaluate(FOCUSED_ITEM) == 1
        assert page.evaluate("document.querySelector('#result-list').getAttribute('aria-busy')") == "true"
        expect(page.locator("#results-status")).to_contain_text("videos")
        page.wait_for_function(f"() => {FOCUSED_ITEM} === 1")


def test_feedback_keeps_focus_and_dislike_returns_to_the_same_row(page: Any) -> None:
    pick_by_hand(page, "happy")
    items = page.locator("#result-list > li")
    like = items.nth(0).locator(".fb-like")
    like.focus()
    page.keyboard.press("Enter")
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_be_focused()
    skip = items.nth(0).locator(".fb-skip")
    skip.focus()
    page.keyboard.press("Enter")
    expect(skip).to_have_attribute("aria-pressed", "true")
    expect(skip).to_be_focused()

    # A Dislike replaces that row only; focus goes to the new row's Undo, and Undo brings it back.
    titles = page.locator("#result-list .title").all_text_contents()
    items.nth(2).locator(".fb-dislike").focus()
    page.keyboard.press("Enter")
    undo = items.nth(2).get_by_role("button", name=re.compile("^Undo"))
    expect(undo).to_be_focused()
    expect(items.nth(2)).to_contain_text(f"In place of “{titles[2]}”")
    after = page.locator("#result-list .title").all_text_contents()
    assert after[2] != titles[2] and after[:2] == titles[:2] and after[3:] == titles[3:]
    page.keyboard.press("Enter")
    expect(items.nth(2).locator(".title")).to_have_text(titles[2])
    page.wait_for_function(f"() => {FOCUSED_ITEM} === 2")
    assert page.locator("#result-list .title").all_text_contents() == titles


def test_switching_kind_and_back_restores_the_list(page: Any) -> None:
    pick_by_hand(page, "sad")
    tracks = page.locator("#result-list .title").all_text_contents()
    page.get_by_role("button", name="Videos").click()
    expect(page.locator("#results-status")).to_contain_text("videos")
    page.get_by_role("button", name="Music").click()
    expect(page.locator("#results-status")).to_contain_text("tracks")
    assert page.locator("#result-list .title").all_text_contents() == tracks
    expect(page.get_by_role("button", name="Music")).to_be_focused()


def test_not_my_mood_moves_focus_to_the_new_list(page: Any) -> None:
    pick_by_hand(page, "happy")
    page.get_by_role("button", name="Not my mood").click()
    expect(page.locator("#not-mine-select")).to_be_focused()
    page.locator("#not-mine-select").select_option("sad")
    page.get_by_role("button", name="Use this mood").click()
    expect(page.locator("#results-mood")).to_contain_text("sad")
    page.wait_for_function(f"() => {FOCUSED_ITEM} === 0")
    # Escape closes the form and returns to its button.
    page.get_by_role("button", name="Not my mood").click()
    page.keyboard.press("Escape")
    expect(page.locator("#not-mine-open")).to_be_focused()


def test_one_tab_stop_per_item_and_arrow_keys_inside(page: Any) -> None:
    pick_by_hand(page, "neutral")
    items = page.locator("#result-list > li")
    count = items.count()
    assert count >= 5
    stops = page.evaluate(
        "[...document.querySelectorAll('#result-list a[href], #result-list button, #result-list iframe')]"
        ".filter((el) => el.tabIndex >= 0).length"
    )
    assert stops == count, f"{stops} Tab stops for {count} items"

    page.evaluate("document.querySelector('#result-list > li .ctl[tabindex=\"0\"]').focus()")
    visited = [page.evaluate(FOCUSED_ITEM)]
    for _ in range(count - 1):
        page.keyboard.press("Tab")
        visited.append(page.evaluate(FOCUSED_ITEM))
    assert visited == list(range(count)), visited
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED_ITEM) == -1, "Tab did not leave the list after the last item"

    first = items.nth(0)
    controls = first.locator(".ctl")
    first.locator(".ctl").first.focus()
    for i in range(1, controls.count()):
        page.keyboard.press("ArrowRight")
        expect(controls.nth(i)).to_be_focused()
    page.keyboard.press("Home")
    expect(controls.first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(items.nth(1).locator(".ctl").first).to_be_focused()
    # The item remembers where you were: Shift+Tab back lands on the same control.
    page.keyboard.press("End")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(items.nth(1).locator(".ctl").last).to_be_focused()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_tab_stop_shows_a_ring_with_3_to_1_contrast(page: Any, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    pick_by_hand(page, "happy")
    page.locator("body").focus()
    seen = []
    for _ in range(60):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring is None:
            break
        seen.append(ring)
        assert ring["style"] != "none" and ring["width"] >= 2, ring
        assert ring["contrast"] >= 3.0, ring
    assert len(seen) > 20, f"only {len(seen)} Tab stops checked"


def test_photo_chooser_is_a_real_focusable_button(page: Any) -> None:
    page.get_by_role("tab", name="Photo").click()
    page.keyboard.press("Tab")
    chooser = page.get_by_role("button", name="Choose a photo")
    expect(chooser).to_be_focused()
    box = chooser.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    assert page.evaluate(FOCUS_RING)["contrast"] >= 3.0
    with page.expect_file_chooser() as chooser_event:
        chooser.press("Enter")
    chooser_event.value.set_files(
        files=[{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(astronaut_rgb())}]
    )
    expect(page.locator("#photo-message")).to_contain_text("1 face")
    expect(chooser).to_be_focused()
