from __future__ import annotations

import pytest

from moodtape.recommender.reasons import describe, purpose, reason
from moodtape.recommender.strategies import STRATEGIES
from moodtape.types import Track, Video


def test_calm_acoustic_track_reads_like_one() -> None:
    track = Track(
        title="t", artist="a", valence=0.6, energy=0.2, tempo=0.1, acousticness=0.9, loudness=0.2, genre="Folk"
    )
    assert describe(track) == "slow, warm acoustic folk song"


def test_loud_fast_track_reads_like_one() -> None:
    track = Track(title="t", artist="a", valence=0.2, energy=0.95, tempo=0.9, acousticness=0.0, loudness=0.95)
    assert describe(track) == "fast, melancholy song"


@pytest.mark.parametrize(
    ("energy", "expected"),
    [(0.1, "slow, warm song"), (0.4, "easy-going, warm song"), (0.6, "lively, warm song"), (0.9, "driving, warm song")],
)
def test_without_tempo_the_pace_comes_from_energy(energy: float, expected: str) -> None:
    assert describe(Track(title="t", artist="a", valence=0.6, energy=energy)) == expected


def test_video_nouns_follow_the_category() -> None:
    video = Video(title="v", channel="c", valence=0.8, energy=0.1, category="nature")
    assert describe(video) == "gentle, bright nature film"


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("progress", [0.0, 0.2, 0.5, 1.0])
def test_every_reason_is_a_readable_sentence(strategy: str, progress: float) -> None:
    track = Track(title="t", artist="a", valence=0.3, energy=0.3)
    line = reason(track, strategy, "sad", progress)
    head, _, tail = line.partition(" — ")
    assert line[0].isupper()
    assert len(head.split()) >= 3 and len(tail.split()) >= 4
    assert "None" not in line and "  " not in line


def test_uplift_reason_names_the_mood_and_moves_along() -> None:
    assert purpose("uplift", "sad", 0.0) == "to meet your sad mood where it is"
    assert purpose("uplift", "sad", 0.5) == "to lift your sad mood gently"
    assert purpose("calm", "angry", 1.0) != purpose("calm", "angry", 0.2)


def test_liked_artist_is_mentioned() -> None:
    track = Track(title="t", artist="a", valence=0.9, energy=0.5)
    assert reason(track, "match", "happy", 0.0, liked=True).endswith("(you liked this artist)")


def test_a_match_list_does_not_repeat_one_purpose_throughout() -> None:
    phrases = {purpose("match", "happy", progress) for progress in (0.0, 0.5, 1.0)}
    assert len(phrases) == 3
    assert all("happy mood" in phrase for phrase in phrases)
