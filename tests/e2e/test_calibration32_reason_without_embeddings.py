"""A model without embeddings is not said to have dropped expressions for a smile (session 32).

Such a model never learns expressions: each calibration step past the neutral one is counted, not
learnt. The server's answer still carries ``neutral_reads_as`` (what the neutral examples read as,
for any model), and now ``learns_expressions``: false for such a model (and
``learning_expressions_now``, since session 36, false while the resting face smiles too). The page
named the smile whenever ``neutral_reads_as`` was set: after the neutral step "expressions you add
won't be learnt", after an expression "Your happy face was counted, not learnt, because your
resting face looked happy", and asked to calibrate again with a relaxed face, which would have
taught that model no expression either. The page reads the field, never the wording of a note.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import REST_AGAIN, TIMEOUT_MS

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


def _as_a_model_without_embeddings(route: Any) -> None:
    """The server's own answer, as one for a model without embeddings: the same readings
    (``neutral_reads_as`` happy for the astronaut's smile), no expressions, and no note from a fit
    that never considered them (one face in the frame: no other note either)."""
    answer = route.fetch()
    shaped = {
        **answer.json(),
        "expressions": False,
        "notes": [],
        "learns_expressions": False,
        "learning_expressions_now": False,
    }
    route.fulfill(response=answer, json=shaped)


def _without_notes(route: Any) -> None:
    """The server's own answer (a model that learns expressions) without its notes: the page's
    reason must come from the answer's fields, not from a note's wording."""
    answer = route.fetch()
    route.fulfill(response=answer, json={**answer.json(), "notes": []})


def _calibrate(page: Any) -> Any:
    """Camera on, the fold opened, the neutral step done; the step's status line."""
    prompt = page.locator("#calibration [role=status]")
    page.get_by_role("button", name="Start camera").click()
    page.wait_for_function("() => document.querySelector('#video').videoWidth > 0", timeout=TIMEOUT_MS)
    page.locator("#calibration-fold > summary").click()
    page.get_by_role("button", name="Calibrate to my face").click()
    expect(prompt).to_contain_text("Done", timeout=TIMEOUT_MS)
    return prompt


def test_the_reason_is_the_model_not_the_smile(page: Any) -> None:
    page.route("**/api/calibration?emotion=*", _as_a_model_without_embeddings)
    prompt = _calibrate(page)
    # The smile is still said (the baseline is the resting face), but no expressions are lost to it.
    expect(prompt).to_have_text(
        'Done, but your face looked happy, not relaxed: choose "Calibrate again" with a relaxed face, '
        "unless this is how your face rests."
    )
    page.get_by_role("button", name="Smile").click()
    expect(prompt).to_have_text(
        "Your happy face was counted, not learnt: this model learns only your resting face.", timeout=TIMEOUT_MS
    )
    expect(page.locator("#calibration-state")).to_have_text("Calibrated (neutral only)")


def test_a_model_that_learns_expressions_names_the_smile_without_a_note(page: Any) -> None:
    """The other way: the bundled model learns expressions, so the smiling resting face is the reason,
    said from ``learns_expressions``, ``learning_expressions_now`` and ``neutral_reads_as`` with the notes
    left out."""
    page.route("**/api/calibration?emotion=*", _without_notes)
    prompt = _calibrate(page)
    expect(prompt).to_have_text(
        f"Done, but your face looked happy, not relaxed: expressions you add won't be learnt. {REST_AGAIN}"
    )
    page.get_by_role("button", name="Smile").click()
    expect(prompt).to_have_text(
        f"Your happy face was counted, not learnt, because your resting face looked happy. {REST_AGAIN}",
        timeout=TIMEOUT_MS,
    )


def _as_a_server_before_session_36(route: Any) -> None:
    """The server's own answer without ``learning_expressions_now`` (new in session 36), as a
    server of sessions 32 to 35 gave it: ``learns_expressions`` is the model's part there too."""
    answer = route.fetch()
    older = {name: value for name, value in answer.json().items() if name != "learning_expressions_now"}
    route.fulfill(response=answer, json={**older, "notes": []})


def test_an_answer_without_the_newer_field_still_names_the_smile(page: Any) -> None:
    page.route("**/api/calibration?emotion=*", _as_a_server_before_session_36)
    prompt = _calibrate(page)
    page.get_by_role("button", name="Smile").click()
    expect(prompt).to_have_text(
        f"Your happy face was counted, not learnt, because your resting face looked happy. {REST_AGAIN}",
        timeout=TIMEOUT_MS,
    )
