"""``Profile.from_json`` on numbers no moodtape profile holds: a ProfileError, never a bare exception."""

from __future__ import annotations

import json
from typing import Any

import pytest

from moodtape import Profile
from moodtape.vision.calibration import ProfileError


@pytest.fixture
def written() -> dict[str, Any]:
    """A profile as moodtape writes it, parsed (baseline only: no embedding)."""
    profile = Profile(model_id="a" * 64, baseline=(0.2, -0.2, 0.0, 0.0, 0.0, 0.0, 0.0), examples={"neutral": 3})
    parsed: dict[str, Any] = json.loads(profile.to_json())
    return parsed


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("baseline", [10**400, 0, 0, 0, 0, 0, 0], "entry is too large: 401 digits"),
        ("weight", 10**400, "too large"),
        ("weight", True, "weight must be a number"),
        ("weight", "0.5", "weight must be a number"),
        ("baseline", ["0.1"] * 7, "must be a number"),
        ("baseline", "0.1,0,0,0,0,0,0", "baseline must be a list"),
    ],
    ids=[
        "baseline-401-digits",
        "weight-401-digits",
        "weight-true",
        "weight-string",
        "baseline-strings",
        "baseline-text",
    ],
)
def test_a_number_that_is_not_one_is_damage(written: dict[str, Any], field: str, value: object, words: str) -> None:
    written[field] = value
    with pytest.raises(ProfileError, match=words):
        Profile.from_json(json.dumps(written))


def test_what_moodtape_writes_still_reads(written: dict[str, Any]) -> None:
    profile = Profile.from_json(json.dumps(written))
    assert profile.baseline[:2] == (0.2, -0.2)
