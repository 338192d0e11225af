"""A profile whose prototypes were scaled by hand is refused: the prototype term is bounded only for
unit-length ones."""

from __future__ import annotations

import json

import numpy as np
import pytest

from moodtape.vision.calibration import Profile, ProfileError, fit_profile


def _profile_dict() -> dict[str, object]:
    rng = np.random.default_rng(3)
    labels = ("neutral", "happy", "sad")
    probabilities = {label: rng.dirichlet(np.ones(7), 2).astype(np.float32) for label in labels}
    embeddings = {label: rng.normal(size=(2, 64)).astype(np.float32) for label in labels}
    data: dict[str, object] = json.loads(fit_profile("m" * 64, probabilities, embeddings).to_json())
    return data


def test_a_profile_as_written_loads() -> None:
    profile = Profile.from_dict(_profile_dict())
    lengths = [float(np.linalg.norm(vector)) for vector in profile.prototypes.values()]
    assert lengths == pytest.approx([1.0] * 3, abs=0.01)


@pytest.mark.parametrize("factor", [3.0, 100.0, 1e300])
def test_prototypes_scaled_by_hand_are_refused(factor: float) -> None:
    data = _profile_dict()
    prototypes = data["prototypes"]
    assert isinstance(prototypes, dict)
    for packed in prototypes.values():
        packed["scale"] *= factor
    with pytest.raises(ProfileError, match="prototypes must be of length 1"):
        Profile.from_json(json.dumps(data))
