"""The values passed between moodtape's parts validate themselves where they are made."""

from __future__ import annotations

import math

import pytest

from moodtape.emotions import EMOTIONS, NUM_EMOTIONS, emotion_index
from moodtape.types import Box, Face, Mood, Track, Video, check_probabilities


def probabilities(top: str = "happy", p: float = 0.7) -> dict[str, float]:
    rest = (1 - p) / (NUM_EMOTIONS - 1)
    return {label: p if label == top else rest for label in EMOTIONS}


def test_emotions_are_in_fer2013_order() -> None:
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert NUM_EMOTIONS == 7


@pytest.mark.parametrize(("name", "index"), [("angry", 0), ("Happy", 3), (" NEUTRAL ", 6)])
def test_emotion_index(name: str, index: int) -> None:
    assert emotion_index(name) == index


def test_unknown_emotion_lists_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown emotion 'bored'.*angry, disgust"):
        emotion_index("bored")


def test_box_is_a_named_tuple_of_ints() -> None:
    box = Box(1, 2, 3, 4)
    assert tuple(box) == (1, 2, 3, 4) and box.w == 3
    x, y, w, h = box
    assert (x, y, w, h) == (1, 2, 3, 4)


def test_face_properties_and_dict() -> None:
    face = Face(Box(10, 20, 30, 40), probabilities("surprise", 0.61234), track_id=5)
    assert face.emotion == "surprise"
    assert face.confidence == pytest.approx(0.61234)
    data = face.to_dict()
    assert data["box"] == [10, 20, 30, 40]
    assert data["emotion"] == "surprise" and data["confidence"] == 0.6123
    assert data["uncertain"] is False and data["track_id"] == 5
    assert list(data["probabilities"]) == list(EMOTIONS)  # type: ignore[call-overload]
    assert "track_id" not in Face(Box(0, 0, 1, 1), probabilities()).to_dict()


def test_face_ties_go_to_the_first_label_in_fer_order() -> None:
    even = dict.fromkeys(EMOTIONS, 1 / 7)
    assert Face(Box(0, 0, 1, 1), even).emotion == "angry"


@pytest.mark.parametrize(
    ("probs", "message"),
    [
        ({label: 1 / 6 for label in EMOTIONS[:6]}, "exactly the labels"),
        ({**probabilities(), "bored": 0.0}, "exactly the labels"),
        (dict.fromkeys(EMOTIONS, 0.2), "sum to 1"),
        (probabilities("happy", 1.1), "non-negative"),  # sums to 1, but the others are negative
        ({**probabilities(), "fear": math.nan}, "finite"),
    ],
    ids=["missing-label", "extra-label", "not-summing", "negative", "nan"],
)
def test_bad_probabilities_are_refused(probs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_probabilities(probs)
    with pytest.raises(ValueError, match=message):
        Face(Box(0, 0, 10, 10), probs)


@pytest.mark.parametrize("box", [Box(0, 0, 0, 10), Box(0, 0, 10, -1)])
def test_empty_boxes_are_refused(box: Box) -> None:
    with pytest.raises(ValueError, match="positive size"):
        Face(box, probabilities())


def test_mood_range() -> None:
    assert Mood(-1.0, 1.0).source == "point"
    for valence, arousal in [(1.01, 0.0), (0.0, -1.5), (math.nan, 0.0), (0.0, math.inf)]:
        with pytest.raises(ValueError, match="must lie in"):
            Mood(valence, arousal)


def test_track_validation_and_key() -> None:
    track = Track("Song", " Artist ", 0.5, 0.2, tempo=0.4)
    assert track.key == Track("SONG", "artist", 0.1, 0.9, source="spotify").key
    with pytest.raises(ValueError, match="title and an artist"):
        Track(" ", "a", 0.5, 0.5)
    with pytest.raises(ValueError, match="energy"):
        Track("t", "a", 0.5, 1.5)
    with pytest.raises(ValueError, match="tempo"):
        Track("t", "a", 0.5, 0.5, tempo=120.0)  # tempo is normalised to [0, 1]


def test_video_validation_and_key() -> None:
    assert Video("Clip", "Chan", 0.3, 0.3).key == Video("clip", "CHAN", 0.9, 0.9).key
    with pytest.raises(ValueError, match="title"):
        Video("", "c", 0.5, 0.5)
    with pytest.raises(ValueError, match="valence"):
        Video("t", "c", -0.1, 0.5)


def test_lone_surrogates_in_text_become_replacement_characters() -> None:
    """A service's JSON may hold "\\ud800"; such a title made every list holding it a 500."""
    track = Track("So\ud800ng", "Art\udfffist", 0.5, 0.5, genre="pop\ud83d", extra={})
    assert (track.title, track.artist, track.genre) == ("So\ufffdng", "Art\ufffdist", "pop\ufffd")
    video = Video("Cl\udc80ip", "Chan\ud800nel", 0.5, 0.5)
    assert (video.title, video.channel) == ("Cl\ufffdip", "Chan\ufffdnel")
    for text in (track.title, track.artist, video.title, video.channel):
        text.encode("utf-8")
    assert Track("Ünïcödé 😀", "x", 0.5, 0.5).title == "Ünïcödé 😀"  # real characters stay
