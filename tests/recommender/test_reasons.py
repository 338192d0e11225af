from __future__ import annotations

from collections import Counter

import pytest

from moodtape.providers.catalog import Catalog
from moodtape.recommender.engine import Recommender
from moodtape.recommender.mood import mood_from_emotion
from moodtape.recommender.reasons import MAX_REPEATS, describe, purpose, reason
from moodtape.recommender.strategies import STRATEGIES
from moodtape.types import Track, Video


def test_calm_acoustic_track_reads_like_one() -> None:
    track = Track(
        title="t", artist="a", valence=0.6, energy=0.2, tempo=0.1, acousticness=0.9, loudness=0.2, genre="Folk"
    )
    assert describe(track) == "slow (65 BPM), warm acoustic folk song"
    assert describe(Track(title="t", artist="a", valence=0.6, energy=0.2, genre="folk", decade=1970)) == (
        "slow, warm folk song from the 1970s"
    )


def test_loud_fast_track_reads_like_one() -> None:
    track = Track(title="t", artist="a", valence=0.2, energy=0.95, tempo=0.9, acousticness=0.0, loudness=0.95)
    assert describe(track) == "fast (185 BPM), melancholy song"


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
    phrases = {purpose("match", "happy", 0.0, slot) for slot in range(5)}
    assert len(phrases) == 5
    assert all("happy" in phrase for phrase in phrases)


def test_a_liked_title_is_named() -> None:
    track = Track(title="t", artist="a", valence=0.9, energy=0.5)
    assert reason(track, "match", "happy", 0.0, because="Here Comes the Sun").endswith(
        ", because you liked “Here Comes the Sun”"
    )


# --- whole lists (issue 11: "12 reasons, 5 different sentences", one of them five times) ---


def _lists() -> list[tuple[str, str, str, int]]:
    return [
        (emotion, strategy, kind, seed)
        for emotion in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
        for strategy in STRATEGIES
        for kind in ("tracks", "videos")
        for seed in (0,)
    ]


@pytest.fixture(scope="module")
def builtin_engine() -> Recommender:
    return Recommender([], Catalog.builtin())


@pytest.mark.parametrize("n", [12, 30])
def test_no_sentence_more_than_twice_in_any_list(builtin_engine: Recommender, n: int) -> None:
    worst = 0
    distinct_share = []
    for emotion, strategy, kind, seed in _lists():
        result = builtin_engine.recommend(mood_from_emotion(emotion), strategy=strategy, kind=kind, n=n, seed=seed)
        counts = Counter(entry.reason for entry in result.items)
        worst = max(worst, max(counts.values()))
        distinct_share.append(len(counts) / len(result.items))
    assert worst <= MAX_REPEATS
    assert min(distinct_share) >= 0.5  # at least half the lines in every list are different sentences


def test_reasons_are_specific_to_the_item_and_its_step() -> None:
    tracks = [
        Track(title="A", artist="x", valence=0.6, energy=0.2, tempo=0.1, acousticness=0.9, genre="folk", decade=1970),
        Track(title="B", artist="y", valence=0.9, energy=0.9, tempo=0.8, acousticness=0.05, genre="rock", decade=1990),
    ]
    folk, rock = (describe(t) for t in tracks)
    assert "65 BPM" in folk and "acoustic" in folk and "folk" in folk and "1970s" in folk
    assert "170 BPM" in rock and "acoustic" not in rock and "1990s" in rock
    # the purpose follows the step along an uplift path
    assert purpose("uplift", "sad", 0.0) != purpose("uplift", "sad", 0.2) != purpose("uplift", "sad", 0.9)


def test_a_list_that_holds_still_says_how_an_item_differs_from_the_last() -> None:
    before = Track(title="a", artist="a", valence=0.6, energy=0.2)
    livelier = Track(title="b", artist="b", valence=0.6, energy=0.3)
    brighter = Track(title="c", artist="c", valence=0.7, energy=0.2)
    assert "a shade livelier than the last" in reason(livelier, "match", "happy", 0.0, previous=before)
    assert "a shade brighter than the last" in reason(brighter, "calm", "angry", 1.0, previous=before)
    assert "than the last" not in reason(livelier, "uplift", "sad", 0.5, previous=before)  # moving: the step says it
    assert "than the last" not in reason(before, "match", "happy", 0.0, previous=before)
