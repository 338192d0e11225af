"""The calibration maths (``vision/calibration.py``): baseline, prototypes, bounds and the JSON form.

Named apart from ``tests/training/test_calibration.py``, which tests the temperature fit.
"""

from __future__ import annotations

import json

import numpy as np
import numpy.typing as npt
import pytest

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError
from moodtape.vision.calibration import (
    MAX_SHIFT,
    NEUTRAL_TARGET,
    PROTOTYPE_WEIGHT,
    Profile,
    ProfileError,
    Settings,
    check_examples,
    fit_profile,
    not_resting,
)

MODEL = "a" * 64
NEUTRAL = EMOTIONS.index("neutral")
SAD = EMOTIONS.index("sad")
HAPPY = EMOTIONS.index("happy")
FloatArray = npt.NDArray[np.float32]


def distribution(**weights: float) -> FloatArray:
    """A (1, 7) probability row: the named labels get their weights, the rest share 0.01 each."""
    row = np.full(len(EMOTIONS), 0.01)
    for label, value in weights.items():
        row[EMOTIONS.index(label)] = value
    return (row / row.sum())[None].astype(np.float32)


def random_embeddings(seed: int, n: int, d: int = 64) -> FloatArray:
    return np.random.default_rng(seed).random((n, d)).astype(np.float32)


# --- the neutral baseline --------------------------------------------------------------------------


def test_a_resting_face_read_as_sad_reads_as_neutral_after_calibration() -> None:
    resting = distribution(sad=0.55, neutral=0.35)
    profile = fit_profile(MODEL, {"neutral": resting}, settings=Settings(max_shift=10.0))
    calibrated = profile.apply(resting)
    assert calibrated.argmax() == NEUTRAL
    assert calibrated[0, NEUTRAL] == pytest.approx(NEUTRAL_TARGET, abs=1e-4)


def test_the_baseline_is_clipped_so_one_odd_photo_cannot_silence_a_class() -> None:
    smiling_as_neutral = distribution(happy=0.97)
    profile = fit_profile(MODEL, {"neutral": smiling_as_neutral})
    # Centring after the clip can widen the range by at most the clip itself.
    assert max(abs(v) for v in profile.baseline) <= 2 * MAX_SHIFT
    happy_face = distribution(happy=0.9)
    assert profile.apply(happy_face).argmax() == HAPPY


def test_calibrated_rows_are_probabilities() -> None:
    profile = fit_profile(MODEL, {"neutral": distribution(angry=0.5, neutral=0.4)})
    rows = np.random.default_rng(0).dirichlet(np.ones(7), size=50).astype(np.float32)
    calibrated = profile.apply(rows)
    assert calibrated.shape == (50, 7)
    assert np.all(calibrated >= 0)
    np.testing.assert_allclose(calibrated.sum(axis=1), 1.0, atol=1e-5)


def test_a_profile_of_an_already_neutral_face_changes_little() -> None:
    row = np.full((1, 7), (1 - NEUTRAL_TARGET) / 6, dtype=np.float32)
    row[0, NEUTRAL] = NEUTRAL_TARGET
    profile = fit_profile(MODEL, {"neutral": row})
    assert max(abs(v) for v in profile.baseline) < 1e-5


# --- prototypes ------------------------------------------------------------------------------------


def two_cluster_profile(weight: float = PROTOTYPE_WEIGHT) -> tuple[Profile, FloatArray, FloatArray]:
    rng = np.random.default_rng(1)
    neutral_dir, sad_dir = rng.random(64), rng.random(64)
    neutral = np.stack([neutral_dir + 0.05 * rng.random(64) for _ in range(2)]).astype(np.float32)
    sad = (sad_dir + 0.05 * rng.random(64))[None].astype(np.float32)
    flat = distribution(neutral=0.3, sad=0.3)
    profile = fit_profile(
        MODEL,
        {"neutral": np.repeat(flat, 2, axis=0), "sad": flat},
        {"neutral": neutral, "sad": sad},
        Settings(prototype_weight=weight),
    )
    return profile, neutral_dir.astype(np.float32), sad_dir.astype(np.float32)


def test_a_face_close_to_the_persons_sad_example_leans_sad() -> None:
    profile, neutral_dir, sad_dir = two_cluster_profile()
    generic = distribution(neutral=0.3, sad=0.3)
    assert profile.apply(generic, sad_dir[None])[0, SAD] > profile.apply(generic)[0, SAD]
    assert profile.apply(generic, neutral_dir[None])[0, SAD] < profile.apply(generic)[0, SAD]


def test_the_prototype_weight_grows_with_the_emotions_covered() -> None:
    profile, _, _ = two_cluster_profile()
    assert profile.weight == pytest.approx(PROTOTYPE_WEIGHT / 6)
    assert profile.uses_embedding
    assert profile.examples == {"sad": 1, "neutral": 2}


def test_neutral_alone_learns_no_prototypes() -> None:
    profile = fit_profile(MODEL, {"neutral": distribution(neutral=0.5)}, {"neutral": random_embeddings(0, 1)})
    assert not profile.uses_embedding
    assert profile.weight == 0


def test_the_total_change_is_bounded() -> None:
    profile, _, sad_dir = two_cluster_profile(weight=6.0)
    rows = np.random.default_rng(2).dirichlet(np.ones(7), size=20).astype(np.float32)
    embeddings = np.repeat(sad_dir[None], 20, axis=0)
    change = np.abs(np.log(profile.apply(rows, embeddings)) - np.log(rows))
    # baseline ≤ 2 × clip, prototype term ≤ 2 × weight, and the softmax renormalisation doubles a bound.
    assert change.max() <= 2 * (2 * MAX_SHIFT + 2 * profile.weight) + 1e-4


def test_identical_examples_for_two_emotions_do_not_produce_nan() -> None:
    same = random_embeddings(3, 1)
    profile = fit_profile(MODEL, {"neutral": distribution(), "happy": distribution()}, {"neutral": same, "happy": same})
    assert np.all(np.isfinite(profile.apply(distribution(), same)))


def test_a_profile_with_prototypes_but_no_embedding_still_applies_its_baseline() -> None:
    profile, _, _ = two_cluster_profile()
    np.testing.assert_allclose(profile.apply(distribution(neutral=0.3, sad=0.3)).sum(), 1.0, atol=1e-5)


def test_embeddings_of_another_size_are_refused() -> None:
    profile, _, _ = two_cluster_profile()
    with pytest.raises(ProfileError, match="calibrate again"):
        profile.apply(distribution(), random_embeddings(0, 1, d=32))


# --- bad examples ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ({"neutral": [1], "joy": [1]}, "unknown emotion.*'joy'.*neutral"),
        ({"neutral": []}, "no images given for neutral"),
        ({"happy": [1]}, "needs at least one neutral photo"),
    ],
)
def test_bad_examples_are_data_errors(examples: dict[str, list[int]], message: str) -> None:
    with pytest.raises(DataError, match=message):
        check_examples(examples)


# --- JSON ------------------------------------------------------------------------------------------


def full_profile(d: int = 512) -> Profile:
    rng = np.random.default_rng(4)
    probabilities = {label: rng.dirichlet(np.ones(7), size=2).astype(np.float32) for label in EMOTIONS}
    embeddings = {label: rng.random((2, d)).astype(np.float32) for label in EMOTIONS}
    return fit_profile(MODEL, probabilities, embeddings, notes=("x.jpg: 2 faces found; used the largest",))


def test_json_round_trip_keeps_the_predictions() -> None:
    profile = full_profile()
    again = Profile.from_json(profile.to_json())
    rows = np.random.default_rng(5).dirichlet(np.ones(7), size=30).astype(np.float32)
    embeddings = np.random.default_rng(6).random((30, 512)).astype(np.float32)
    np.testing.assert_allclose(again.apply(rows, embeddings), profile.apply(rows, embeddings), atol=5e-3)
    assert again.examples == profile.examples
    assert again.notes == profile.notes
    assert again.model_id == MODEL


def test_json_is_small_and_holds_no_image() -> None:
    text = full_profile().to_json()
    assert len(text) < 8_000  # 7 prototypes of 512 features plus the centre, one byte each in base64
    data = json.loads(text)
    assert set(data) == {
        "moodtape_profile",
        "model_id",
        "examples",
        "baseline",
        "weight",
        "center",
        "prototypes",
        "notes",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"hello": 1}', "not a moodtape calibration profile"),
        ('{"moodtape_profile": 1, "model_id": "x"}', "damaged"),
        ('{"moodtape_profile": 1, "model_id": "x", "examples": {"happy": 1}, "baseline": [0,0,0,0,0,0,0]}', "neutral"),
        ('{"moodtape_profile": 1, "model_id": "x", "examples": {"neutral": 1}, "baseline": [0, 1]}', "7 finite"),
        (
            '{"moodtape_profile": 1, "model_id": "x", "examples": {"neutral": 1}, "baseline": [1e308,0,0,0,0,0,0]}',
            "within",
        ),
    ],
)
def test_bad_json_is_refused_with_a_profile_error(text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        Profile.from_json(text)


def test_a_profile_from_another_model_is_refused() -> None:
    profile = full_profile(d=8)
    profile.check_model(MODEL)
    with pytest.raises(ProfileError, match=r"different emotion model.*calibrate again"):
        profile.check_model("b" * 64)


# --- a "neutral" example that is not a resting face --------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "shown"),
    [
        ({"happy": 60.0}, "happy"),  # a smile (the row is normalised: 60 / 65 ≈ 0.92)
        ({"surprise": 9.0, "neutral": 3.0}, "surprise"),  # an open mouth: 0.6 after normalising
        ({"happy": 4.0, "neutral": 4.0}, None),  # a half smile: 0.44, not sure enough to say so
        ({"sad": 60.0}, None),  # a resting face read as sad: what the baseline is for
        ({"angry": 60.0}, None),
        ({"neutral": 60.0}, None),
    ],
)
def test_a_smile_or_open_mouth_given_as_neutral_is_named(weights: dict[str, float], shown: str | None) -> None:
    assert not_resting(distribution(**weights)[0]) == shown
