"""The page says when a calibration step was counted but not learnt, by the server's own reading.

When all the neutral frames, read together, look happy or surprised (60 % or more), the profile
learns no expressions (``moodtape.vision.calibration.fit_profile``). The page used to say "Added your
happy face." and show "Calibrated (neutral, happy)" all the same (the fake camera's astronaut smiles,
so her smile is her "neutral" here), and warned by a rule of its own, more than half the frames
smiling, which said a plain "Done" for frames that together dropped the expressions.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import REST_AGAIN, TIMEOUT_MS

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


def _calibrate(page: Any) -> None:
    """Camera on, the fold opened, "Calibrate to my face" pressed: until the neutral step is done."""
    page.get_by_role("button", name="Start camera").click()
    page.wait_for_function("() => document.querySelector('#video').videoWidth > 0", timeout=TIMEOUT_MS)
    page.locator("#calibration-fold > summary").click()
    page.get_by_role("button", name="Calibrate to my face").click()
    expect(page.locator("#calibration [role=status]")).to_contain_text("Done", timeout=TIMEOUT_MS)


def test_a_smile_after_a_smiling_neutral_step_is_said_not_learnt(page: Any) -> None:
    prompt, badge = page.locator("#calibration [role=status]"), page.locator("#calibration-state")
    _calibrate(page)
    expect(prompt).to_have_text(
        f"Done, but your face looked happy, not relaxed: expressions you add won't be learnt. {REST_AGAIN}"
    )
    page.get_by_role("button", name="Smile").click()
    expect(prompt).to_have_text(
        f"Your happy face was counted, not learnt, because your resting face looked happy. {REST_AGAIN}",
        timeout=TIMEOUT_MS,
    )
    expect(badge).to_have_text("Calibrated (neutral only)")  # before: "Calibrated (neutral, happy)"
    status = page.evaluate("() => fetch('/api/calibration').then((r) => r.json())")
    assert status["examples"]["happy"] >= 2 and status["expressions"] is False


def test_the_warning_follows_the_servers_reading_not_the_frames_one_by_one(page: Any) -> None:
    """No frame on its own said "not resting" (as with 4 frames at happy 0.95 and 4 at 0.55, half
    of them), but the server, reading them together, dropped the expressions: the page says so."""

    def none_alone(route: Any) -> None:
        answer = route.fetch()
        route.fulfill(response=answer, json={**answer.json(), "not_resting": None})

    page.route("**/api/calibration?emotion=*", none_alone)
    _calibrate(page)
    expect(page.locator("#calibration [role=status]")).to_contain_text(
        "Done, but your face looked happy, not relaxed: expressions you add won't be learnt."
    )


def test_a_learnt_expression_is_still_said_learnt(page: Any) -> None:
    """The other way: the server learnt it (here its answers say a resting neutral, as for a relaxed
    face), so the page says "Added", and the badge names it."""

    def resting(route: Any) -> None:
        answer = route.fetch()
        shaped = {**answer.json(), "not_resting": None, "neutral_reads_as": None}
        if "emotion=happy" in route.request.url:
            shaped["expressions"] = True
        route.fulfill(response=answer, json=shaped)

    page.route("**/api/calibration?emotion=*", resting)
    _calibrate(page)
    expect(page.locator("#calibration [role=status]")).to_have_text(
        "Done: moodtape now reads your face against your own resting face."
    )
    page.get_by_role("button", name="Smile").click()
    expect(page.locator("#calibration [role=status]")).to_have_text("Added your happy face.", timeout=TIMEOUT_MS)
    expect(page.locator("#calibration-state")).to_have_text("Calibrated (neutral, happy)")


def test_a_neutral_correction_is_said_taught_whatever_the_expressions(page: Any) -> None:
    """A neutral example always goes into the baseline: "I feel neutral" is learnt even while the
    profile holds no expressions (here none were given), and the page says so, not "counted, not learnt"."""
    prompt = page.locator("#calibration [role=status]")
    _calibrate(page)
    expect(page.locator("#result-list > li").first).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Not my mood").click()
    page.locator("#not-mine-select").select_option("neutral")
    page.get_by_role("button", name="Use this mood").click()
    expect(prompt).to_have_text(
        "Your correction taught the calibration how you look when you feel neutral.", timeout=TIMEOUT_MS
    )
    status = page.evaluate("() => fetch('/api/calibration').then((r) => r.json())")
    assert status["expressions"] is False and status["examples"]["neutral"] >= 2
