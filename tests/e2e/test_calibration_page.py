"""The page's guided calibration (``static/js/calibrate.js``) in a real browser against ``moodtape serve``.

The fake camera plays the astronaut: a real face, so the neutral step is accepted and the page
shows "Calibrated"; "Remove calibration" forgets it on the server too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from browsertools import (
    TIMEOUT_MS,
    delete_everything_by_keyboard,
    open_calibration_by_keyboard,
    screenshot,
    start_camera,
    watch_text,
    watched_page,
)

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


def _status(page: Any) -> dict[str, Any]:
    status: dict[str, Any] = page.evaluate("() => fetch('/api/calibration').then((r) => r.json())")
    return status


def test_calibrate_from_the_camera_then_remove(page: Any) -> None:
    badge = page.locator("#calibration-state")
    start_camera(page)
    expect(badge).to_have_text("Not calibrated")

    page.locator("#calibration-fold > summary").click()  # folded by default (the page, issue 13)
    page.get_by_role("button", name="Calibrate to my face").click()
    expect(page.locator("#calibration [role=status]")).to_contain_text("neutral face")
    expect(badge).to_have_text("Calibrated (neutral)", timeout=TIMEOUT_MS)
    expect(page.locator("#calibration [role=status]")).to_contain_text("Done", timeout=TIMEOUT_MS)
    status = _status(page)
    assert status["calibrated"] is True and status["examples"]["neutral"] >= 3
    # The live frames are now read through the profile.
    with page.expect_response(lambda r: "/api/analyze" in r.url and r.json().get("calibrated") is True):
        pass

    # Her smile is her "neutral" here: the smile is counted, not learnt, and the page says so (a
    # learnt one: tests/e2e/test_calibration31_page_says_not_learnt.py).
    page.get_by_role("button", name="Smile").click()
    expect(page.locator("#calibration [role=status]")).to_contain_text(
        "Your happy face was counted, not learnt", timeout=TIMEOUT_MS
    )
    expect(badge).to_have_text("Calibrated (neutral only)")
    screenshot(page, "10-calibrated-desktop")

    # A "Not my mood" correction while calibrated is sent as an example of that face too.
    expect(page.locator("#result-list > li").first).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Not my mood").click()
    page.locator("#not-mine-select").select_option("fear")
    page.get_by_role("button", name="Use this mood").click()
    expect(page.locator("#calibration [role=status]")).to_contain_text(
        "Your correction was counted, not learnt, because your resting face looked happy", timeout=TIMEOUT_MS
    )
    expect(badge).to_have_text("Calibrated (neutral only)")
    assert _status(page)["examples"]["fear"] == 1

    page.get_by_role("button", name="Remove calibration").click()
    expect(badge).to_have_text("Not calibrated")
    # Removed twice: "Calibrate to my face" starts from scratch, then "Remove calibration".
    assert _status(page) == {"calibrated": False, "examples": {}, "expressions": False, "removed": 2}


def test_calibrating_without_the_camera_says_to_start_it(page: Any) -> None:
    # The stage (and its buttons) are hidden until the camera runs; the module still mounts.
    expect(page.locator("#calibration-state")).to_have_text("Not calibrated")
    page.evaluate("() => document.querySelector('#calibration').closest('[hidden]')?.removeAttribute('hidden')")
    page.evaluate("() => document.querySelector('#camera-stage').hidden = false")
    page.evaluate("() => document.querySelector('#calibration-fold').open = true")
    page.get_by_role("button", name="Calibrate to my face").click()
    expect(page.locator("#calibration [role=status]")).to_have_text("Start the camera first.")


def test_calibration_by_keyboard_is_announced_once_not_once_a_frame(page: Any) -> None:
    """Keyboard only: open the fold, start calibrating; the status says the instruction and the
    result, not the countdown (that would read the whole instruction out again for every frame)."""
    open_calibration_by_keyboard(page)
    status = watch_text(page, "#calibration [role=status]")
    page.keyboard.press("Enter")
    expect(page.locator("#calibration [role=status]")).to_contain_text("Done", timeout=TIMEOUT_MS)
    said = [text for text in status() if text]
    assert said == ["Look at the camera with a relaxed, neutral face…", said[-1]] and "Done" in said[-1], said
    expect(page.get_by_role("button", name="Calibrate again")).to_be_focused()


NO_FACE = json.dumps({"error": {"code": "no_face", "message": "no face found in the frame"}})


def _calibrate_by_keyboard(page: Any) -> None:
    """Camera on, the fold opened and "Calibrate to my face" pressed from the keyboard, until done."""
    open_calibration_by_keyboard(page)
    page.keyboard.press("Enter")
    expect(page.locator("#calibration [role=status]")).to_contain_text("Done", timeout=TIMEOUT_MS)
    expect(page.locator("#calibration-state")).to_have_text("Calibrated (neutral)")
    assert _status(page)["calibrated"] is True


def test_a_recalibration_that_sees_no_face_does_not_claim_the_forgotten_calibration(page: Any) -> None:
    """Before: "Calibrate again" forgot the calibration on the server first; when no frame then had a
    face, the badge still said "Calibrated (neutral)" and Smile and Remove still showed."""
    _calibrate_by_keyboard(page)
    page.route(
        "**/api/calibration?emotion=*",
        lambda route: route.fulfill(status=422, content_type="application/json", body=NO_FACE),
    )
    again = page.get_by_role("button", name="Calibrate again")
    expect(again).to_be_focused()
    page.keyboard.press("Enter")  # nobody in view
    expect(page.locator("#calibration [role=status]")).to_contain_text("No face seen", timeout=TIMEOUT_MS)
    assert _status(page)["calibrated"] is False
    expect(page.locator("#calibration-state")).to_have_text("Not calibrated")
    expect(page.get_by_role("button", name="Smile")).to_be_hidden()
    expect(page.get_by_role("button", name="Remove calibration")).to_be_hidden()
    expect(page.get_by_role("button", name="Calibrate to my face")).to_be_focused()


def test_deleting_the_history_says_the_calibration_is_gone(page: Any) -> None:
    """Before: "Delete everything" (which says it deletes the calibration too) made the server forget
    it, but the badge went on saying "Calibrated (neutral)"."""
    _calibrate_by_keyboard(page)
    expect(page.locator("#result-list > li").first).to_be_visible(timeout=TIMEOUT_MS)
    delete_everything_by_keyboard(page)
    expect(page.locator("#history-status")).to_contain_text("Deleted")
    page.keyboard.press("Escape")
    assert _status(page)["calibrated"] is False
    expect(page.locator("#calibration-state")).to_have_text("Not calibrated")
    expect(page.get_by_role("button", name="Remove calibration")).to_be_hidden()


def _start_calibrating(page: Any) -> None:
    """Camera on, "Calibrate to my face" pressed; returns once the first frame is in, more to come."""
    start_camera(page)
    page.locator("#calibration-fold > summary").click()
    page.get_by_role("button", name="Calibrate to my face").click()
    expect(page.locator("#calibration-state")).to_have_text("Calibrated (neutral)", timeout=TIMEOUT_MS)
    assert "Done" not in (page.locator("#calibration [role=status]").text_content() or "")


def _delete(page: Any, url: str, *, event: bool) -> None:
    """A DELETE with the page's token, as from another of its parts (or another tab when no ``event``)."""
    page.evaluate(
        """async ([url, event]) => {
          const token = document.querySelector('meta[name="csrf-token"]').content;
          const reply = await fetch(url, { method: "DELETE", headers: { "X-CSRF-Token": token } });
          if (!reply.ok) throw new Error(`delete answered ${reply.status}`);
          const { csrf_token: renewed } = await reply.json();
          // "Delete everything" goes on in a new session: the page takes its token (history.js).
          if (renewed) document.querySelector('meta[name="csrf-token"]').content = renewed;
          if (event) document.dispatchEvent(new CustomEvent("moodtape:history-deleted"));
        }""",
        [url, event],
    )


def test_deleting_everything_while_calibrating_stops_the_calibration(page: Any) -> None:
    """Before: "Delete everything" while the neutral frames were being taken forgot the calibration,
    and the frames still to come made a new one at once: the visit's calibration outlived its
    deletion. Now the calibration stops, says so, and the server holds nothing."""
    _start_calibrating(page)
    # What history.js does once "Delete everything" is confirmed: the DELETE, then its event.
    _delete(page, "/api/history?confirm=true", event=True)
    expect(page.locator("#calibration [role=status]")).to_have_text(
        "Calibration stopped: everything was deleted.", timeout=TIMEOUT_MS
    )
    expect(page.locator("#calibration-state")).to_have_text("Not calibrated")
    page.wait_for_timeout(1500)  # longer than the gap between two frames: none may follow
    # Removed twice: the start of the calibration (it begins from scratch), then the deletion.
    assert _status(page) == {"calibrated": False, "examples": {}, "expressions": False, "removed": 2}
    expect(page.get_by_role("button", name="Calibrate to my face")).to_be_visible()


def test_a_calibration_removed_in_another_tab_stops_here(page: Any) -> None:
    """The frames still to come carry the removal count this capture began with: the server drops
    them once another tab removed the calibration, and the page says so instead of "Done"."""
    _start_calibrating(page)
    _delete(page, "/api/calibration", event=False)
    expect(page.locator("#calibration [role=status]")).to_have_text(
        "Calibration stopped: it was removed meanwhile.", timeout=TIMEOUT_MS
    )
    expect(page.locator("#calibration-state")).to_have_text("Not calibrated")
    assert _status(page)["examples"] == {}


def test_a_step_stopped_by_a_removal_elsewhere_leaves_focus_on_the_start_button(page: Any) -> None:
    """Before: "Smile" pressed from the keyboard, then the calibration removed in another tab: the
    step buttons were hidden with focus on one of them, and focus fell to <body>."""
    _calibrate_by_keyboard(page)
    smile = page.get_by_role("button", name="Smile")
    smile.focus()
    page.keyboard.press("Enter")
    _delete(page, "/api/calibration", event=False)  # during the step's "get ready" second
    expect(page.locator("#calibration [role=status]")).to_have_text(
        "Calibration stopped: it was removed meanwhile.", timeout=TIMEOUT_MS
    )
    expect(smile).to_be_hidden()
    expect(page.get_by_role("button", name="Calibrate to my face")).to_be_focused()


# Every layout shift that no key press or click caused just before (hadRecentInput: within 500 ms).
RECORD_SHIFTS = """() => {
  window.__shifts = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.hadRecentInput) continue;
      const moved = (e.sources || []).map((s) => {
        const el = s.node && (s.node.nodeType === 1 ? s.node : s.node.parentElement);
        return `${el ? el.id || el.className || el.tagName : "?"} dy=${Math.round(s.currentRect.y - s.previousRect.y)}`;
      });
      window.__shifts.push([Math.round(e.startTime), e.value, moved]);
    }
  }).observe({ type: "layout-shift" });
}"""


@pytest.mark.parametrize("size", [(390, 844), (1280, 900)])
def test_calibrating_does_not_move_the_page(browser: Any, server: Any, size: tuple[int, int]) -> None:
    """Before: the countdown's line came 1.2 s after the key press and went again, the prompt grew
    from one line to two, and the steps' row appeared once calibrated: CLS 0.20 at 390×844 while
    calibrating by keyboard, none of it caused by the key press."""
    with watched_page(browser, server, width=size[0], height=size[1]) as page:
        start_camera(page)
        expect(page.locator("#result-list > li").first).to_be_visible(timeout=TIMEOUT_MS)
        page.locator("#calibration-fold > summary").focus()
        page.keyboard.press("Enter")
        page.wait_for_timeout(600)  # the fold opening is the key press's doing
        page.evaluate(RECORD_SHIFTS)
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # Calibrate to my face
        expect(page.locator("#calibration [role=status]")).to_contain_text("Done", timeout=TIMEOUT_MS)
        page.wait_for_timeout(800)
        smile = page.get_by_role("button", name="Smile")
        smile.focus()
        page.keyboard.press("Enter")
        # The astronaut's smile is her "neutral" here: the smile is counted, not learnt, and said so.
        expect(page.locator("#calibration [role=status]")).to_contain_text("counted, not learnt", timeout=TIMEOUT_MS)
        page.wait_for_timeout(800)
        shifts = page.evaluate("window.__shifts")
        assert sum(value for _, value, _ in shifts) < 0.005, shifts


def test_escape_cancels_a_calibration_under_way_and_says_so_once(page: Any) -> None:
    """Keyboard only, frames flowing: Escape stops the step under way (before, a step could only be
    waited out: it ran on to "Done"), leaves no half calibration, and keeps focus where it was."""
    start = open_calibration_by_keyboard(page, camera_by_keyboard=True)
    status = watch_text(page, "#calibration [role=status]")
    page.keyboard.press("Enter")
    expect(page.locator("#calibration [role=status]")).to_contain_text("neutral face")
    page.keyboard.press("Escape")
    expect(page.locator("#calibration [role=status]")).to_have_text("Calibration cancelled.", timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)  # longer than the gap between two frames: none may follow
    said = [text for text in status() if text]
    assert said == ["Look at the camera with a relaxed, neutral face…", "Calibration cancelled."], said
    expect(page.locator("#calibration-state")).to_have_text("Not calibrated")
    assert _status(page)["calibrated"] is False
    expect(start).to_be_focused()
    expect(start).to_have_attribute("aria-disabled", "false")


SEVERAL_FACES = json.dumps(
    {"error": {"code": "several_faces", "message": "2 faces of about the same size in the frame: whose is unclear"}}
)


def _crowd_frames(page: Any, crowded: set[int]) -> None:
    """Answer the calibration frames numbered in ``crowded`` (from 1) with 422 ``several_faces``:
    someone about as near as the person passed behind them then; the rest reach the server."""
    sent = [0]

    def handle(route: Any) -> None:
        sent[0] += 1
        if sent[0] in crowded:
            route.fulfill(status=422, content_type="application/json", body=SEVERAL_FACES)
        else:
            route.continue_()

    page.route("**/api/calibration?emotion=*", handle)


def test_a_frame_with_a_second_face_as_near_is_skipped_not_the_end_of_the_step(page: Any) -> None:
    """Before: one frame refused with ``several_faces`` (someone passing behind) ended the step; a
    "Calibrate again" then left no calibration at all and blamed the light."""
    _calibrate_by_keyboard(page)
    _crowd_frames(page, {2})
    page.get_by_role("button", name="Calibrate again").press("Enter")
    prompt = page.locator("#calibration [role=status]")
    expect(prompt).to_contain_text("neutral face")  # the first calibration's "Done" is gone
    expect(prompt).to_contain_text("Done", timeout=TIMEOUT_MS)
    status = _status(page)
    assert status["calibrated"] is True and status["examples"]["neutral"] == 4


def test_a_step_short_of_frames_because_of_a_second_face_says_so(page: Any) -> None:
    _calibrate_by_keyboard(page)
    _crowd_frames(page, {1, 3, 5})
    page.get_by_role("button", name="Calibrate again").press("Enter")
    prompt = page.locator("#calibration [role=status]")
    expect(prompt).to_contain_text("2 of 5 frames showed your face alone", timeout=TIMEOUT_MS)
    expect(prompt).to_contain_text("Another face was about as near as yours")
    assert _status(page)["calibrated"] is False


def test_a_smile_during_the_neutral_step_is_kept_but_said(page: Any) -> None:
    """The fake camera's astronaut smiles: the server keeps her frames as neutral (a person may rest
    that way) and says they look happy; the page asks for a relaxed face (before: "Done:
    moodtape now reads your face against your own resting face", as if all were well)."""
    _calibrate_by_keyboard(page)
    expect(page.locator("#calibration [role=status]")).to_have_text(
        "Done, but your face looked happy, not relaxed: expressions you add won't be learnt. "
        'Choose "Calibrate again" with a relaxed face; if this is how your face rests, the neutral baseline '
        "alone is used."
    )


def test_a_resting_face_is_simply_done(page: Any) -> None:
    def resting(route: Any) -> None:
        answer = route.fetch()
        route.fulfill(response=answer, json={**answer.json(), "not_resting": None, "neutral_reads_as": None})

    page.route("**/api/calibration?emotion=*", resting)
    _calibrate_by_keyboard(page)
    expect(page.locator("#calibration [role=status]")).to_have_text(
        "Done: moodtape now reads your face against your own resting face."
    )
