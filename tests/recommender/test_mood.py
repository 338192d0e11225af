from __future__ import annotations

import math

import pytest

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError
from moodtape.recommender.mood import (
    EMOTION_POINTS,
    face_weight,
    group_mood,
    mood_from_emotion,
    mood_from_point,
    mood_from_probabilities,
    nearest_emotion,
)
from moodtape.types import Box, Face


def one_hot(label: str, weight: float = 1.0, rest: str = "neutral") -> dict[str, float]:
    probs = dict.fromkeys(EMOTIONS, 0.0)
    probs[label] += weight
    probs[rest] += 1.0 - weight
    return probs


def test_every_emotion_has_a_point_inside_the_circle() -> None:
    assert set(EMOTION_POINTS) == set(EMOTIONS)
    for valence, arousal in EMOTION_POINTS.values():
        assert math.hypot(valence, arousal) <= 1.0


def test_points_follow_russell_quadrants() -> None:
    v, a = EMOTION_POINTS["happy"]
    assert v > 0 and a > 0
    v, a = EMOTION_POINTS["sad"]
    assert v < 0 and a < 0
    for label in ("angry", "fear"):
        v, a = EMOTION_POINTS[label]
        assert v < 0 and a > 0
    assert EMOTION_POINTS["neutral"] == (0.0, 0.0)


@pytest.mark.parametrize("label", EMOTIONS)
def test_one_hot_probabilities_give_the_anchor(label: str) -> None:
    mood = mood_from_probabilities(one_hot(label))
    assert (mood.valence, mood.arousal) == pytest.approx(EMOTION_POINTS[label])
    assert mood.emotion == label


def test_mixed_probabilities_land_between_anchors() -> None:
    mood = mood_from_probabilities(one_hot("sad", 0.6))
    sad, neutral = EMOTION_POINTS["sad"], EMOTION_POINTS["neutral"]
    assert mood.valence == pytest.approx(0.6 * sad[0] + 0.4 * neutral[0])
    assert mood.arousal == pytest.approx(0.6 * sad[1] + 0.4 * neutral[1])
    assert mood.emotion == "sad"


def test_sequence_in_fer_order_is_accepted() -> None:
    probs = [0.0] * 7
    probs[EMOTIONS.index("happy")] = 1.0
    assert mood_from_probabilities(probs).emotion == "happy"


@pytest.mark.parametrize(
    ("probs", "message"),
    [
        ({"sad": 0.5, "joy": 0.5}, "unknown emotion 'joy'"),
        ({"sad": 0.5, "happy": 0.2}, "sum to 1"),
        ({"sad": float("nan"), "happy": 1.0}, "finite"),
        ({"sad": -0.2, "happy": 1.2}, "non-negative"),
        ({"sad": "a lot"}, "must be a number"),
        ([0.5, 0.5], "expected 7"),
    ],
)
def test_bad_probabilities_are_data_errors(probs: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        mood_from_probabilities(probs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("probs", "words"),
    [
        ({"happy": True}, "must be a number, got the boolean true"),
        ({"happy": None}, "must be a number, got nothing (null)"),
        ({"happy": {"a": 1}}, "must be a number, got an object"),
        ({"happy": [1]}, "must be a number, got a list"),
        ({"happy": 1e300}, "must sum to 1, got 1e+300"),
        ({"happy": 10**400}, "non-negative, got a whole number far too large"),
    ],
)
def test_bad_probabilities_are_named_in_words_a_json_client_sent(probs: object, words: str) -> None:
    """Before: "got True", "got None", "got {'a': 1}" (Python's words for JSON's true, null and {"a": 1}),
    a sum of 1e300 as 300 digits, and an OverflowError (not a DataError) for a huge whole number."""
    with pytest.raises(DataError) as caught:
        mood_from_probabilities(probs)  # type: ignore[arg-type]
    assert str(caught.value).endswith(words)


def test_a_point_far_too_large_is_a_data_error_not_an_overflow() -> None:
    with pytest.raises(DataError, match=r"valence must be a number in \[-1, 1\], got a whole number far too large"):
        mood_from_point(10**400, 0.0)


def test_emotion_names_are_case_insensitive_and_checked() -> None:
    assert mood_from_emotion(" Sad ").emotion == "sad"
    with pytest.raises(DataError, match=r"unknown emotion 'bored'.*angry, disgust"):
        mood_from_emotion("bored")


def test_point_mood_names_its_nearest_emotion() -> None:
    mood = mood_from_point(0.75, 0.3)
    assert mood.emotion == "happy" and mood.source == "point"
    assert nearest_emotion(-0.7, -0.5) == "sad"


@pytest.mark.parametrize(("valence", "arousal"), [(1.5, 0.0), (0.0, -2.0), (float("nan"), 0.0), (True, 0.0)])
def test_point_outside_the_plane_is_rejected(valence: float, arousal: float) -> None:
    with pytest.raises(DataError, match=r"in \[-1, 1\]"):
        mood_from_point(valence, arousal)


def face(label: str, size: int, uncertain: bool = False, weight: float = 0.9) -> Face:
    return Face(Box(0, 0, size, size), one_hot(label, weight), uncertain=uncertain)


def test_group_mood_weights_bigger_faces_more() -> None:
    mood = group_mood([face("happy", 200), face("sad", 40)])
    assert mood.source == "group"
    assert mood.emotion == "happy"
    assert mood.valence > 0.4


def test_uncertain_faces_count_less() -> None:
    sure_sad = face("sad", 100)
    unsure_happy = face("happy", 100, uncertain=True)
    assert face_weight(unsure_happy) == pytest.approx(face_weight(face("happy", 100)) / 4)
    assert group_mood([sure_sad, unsure_happy]).emotion == "sad"


def test_single_face_is_a_face_mood_and_no_faces_is_an_error() -> None:
    assert group_mood([face("fear", 80)]).source == "face"
    with pytest.raises(DataError, match="no faces"):
        group_mood([])
