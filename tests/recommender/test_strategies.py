from __future__ import annotations

import itertools

import pytest

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError
from moodtape.recommender.features import mood_to_unit
from moodtape.recommender.mood import mood_from_emotion
from moodtape.recommender.strategies import DEFAULT_STRATEGY, STRATEGIES, progress, resolve_strategy, target_path


def _monotone(values: list[float], increasing: bool) -> bool:
    pairs = list(itertools.pairwise(values))
    return all(b >= a - 1e-12 for a, b in pairs) if increasing else all(b <= a + 1e-12 for a, b in pairs)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("emotion", EMOTIONS)
def test_every_path_starts_at_the_mood_and_stays_in_the_unit_square(strategy: str, emotion: str) -> None:
    mood = mood_from_emotion(emotion)
    path = target_path(mood, strategy, 20)
    assert len(path) == 20
    assert path[0] == pytest.approx(mood_to_unit(mood.valence, mood.arousal))
    assert all(0.0 <= v <= 1.0 and 0.0 <= e <= 1.0 for v, e in path)


def test_match_stays_put() -> None:
    path = target_path(mood_from_emotion("sad"), "match", 10)
    assert len(set(path)) == 1


def test_uplift_raises_valence_step_by_step() -> None:
    path = target_path(mood_from_emotion("sad"), "uplift", 20)
    valences = [v for v, _ in path]
    assert _monotone(valences, increasing=True)
    assert valences[-1] >= 0.8 > valences[0] + 0.5
    # the iso principle: the first slots stay with the mood
    assert valences[1] == valences[0]


def test_calm_lowers_energy_and_keeps_valence_mid_to_high() -> None:
    path = target_path(mood_from_emotion("angry"), "calm", 20)
    energies = [e for _, e in path]
    assert _monotone(energies, increasing=False)
    assert energies[-1] <= 0.2
    assert 0.6 <= path[-1][0] <= 0.8


def test_energize_raises_energy() -> None:
    path = target_path(mood_from_emotion("sad"), "energize", 20)
    energies = [e for _, e in path]
    assert _monotone(energies, increasing=True)
    assert energies[-1] >= 0.85
    assert path[-1][0] >= 0.6


def test_progress_holds_then_reaches_the_goal() -> None:
    assert progress(0, 20) == 0.0
    assert progress(19, 20) == pytest.approx(1.0)
    assert progress(0, 1) == 0.5


@pytest.mark.parametrize(("emotion", "expected"), [("sad", "uplift"), ("angry", "calm"), ("happy", "match")])
def test_defaults_per_emotion(emotion: str, expected: str) -> None:
    assert DEFAULT_STRATEGY[emotion] == expected
    assert resolve_strategy(None, mood_from_emotion(emotion)) == expected


def test_defaults_are_overridable_and_names_checked() -> None:
    assert resolve_strategy("Energize", mood_from_emotion("sad")) == "energize"
    with pytest.raises(DataError, match="unknown strategy 'chill'; choose one of: match, uplift"):
        resolve_strategy("chill", mood_from_emotion("sad"))


def test_empty_path_is_refused() -> None:
    with pytest.raises(DataError):
        target_path(mood_from_emotion("sad"), "uplift", 0)
