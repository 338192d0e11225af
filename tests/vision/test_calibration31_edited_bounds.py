"""A profile read from JSON holds a baseline and a weight no larger than moodtape writes.

Session 30 bounded a saved profile's prototypes at length 1.1, but its baseline was allowed ±50 nats
and its weight 1,000, where moodtape writes at most ±2 and 4. On Yale, a profile edited to weight
1,000 read the test photos 42.7 % right (79.8 % as written), with a mean top probability of 0.996,
and one with +50 nats on angry read every face "angry 100 %". Such files are now refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from moodtape.emotions import EMOTIONS
from moodtape.vision.calibration import MAX_SHIFT, PROTOTYPE_WEIGHT, Profile, ProfileError, Settings, fit_profile

MODEL = "m" * 64


def _written(**settings: Any) -> dict[str, Any]:
    """A profile of all seven emotions, whose neutral example reads angry: the baseline at its clip."""
    rng = np.random.default_rng(0)
    probabilities = {label: rng.dirichlet(np.ones(len(EMOTIONS)), 2).astype(np.float32) for label in EMOTIONS}
    probabilities["neutral"] = np.asarray([[0.94, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01]] * 2, dtype=np.float32)
    embeddings = {label: rng.normal(size=(2, 16)).astype(np.float32) for label in EMOTIONS}
    data: dict[str, Any] = fit_profile(MODEL, probabilities, embeddings, Settings(**settings)).to_dict()
    return data


def test_the_largest_profile_moodtape_writes_loads() -> None:
    data = _written()
    assert data["weight"] == PROTOTYPE_WEIGHT
    assert max(abs(shift) for shift in data["baseline"]) > MAX_SHIFT  # centred after the clip
    assert Profile.from_dict(data).weight == PROTOTYPE_WEIGHT


@pytest.mark.parametrize("weight", [4.01, 8.0, 1000.0])
def test_a_weight_edited_past_what_moodtape_writes_is_refused(weight: float) -> None:
    with pytest.raises(ProfileError, match=r"weight must be at most 4 .*make a new one"):
        Profile.from_dict({**_written(), "weight": weight})


@pytest.mark.parametrize("shift", [2.1, 10.0, 50.0])
def test_a_baseline_edited_past_what_moodtape_writes_is_refused(shift: float) -> None:
    baseline = [-shift / 6] * len(EMOTIONS)
    baseline[EMOTIONS.index("angry")] = shift
    with pytest.raises(ProfileError, match=r"within ±2 nats .*make a new one"):
        Profile.from_dict({**_written(), "baseline": baseline})
