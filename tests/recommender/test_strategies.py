from __future__ import annotations

import itertools
import math

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


@pytest.mark.parametrize("strategy", ["calm", "energize"])
@pytest.mark.parametrize("emotion", EMOTIONS)
@pytest.mark.parametrize("n", [5, 12, 20, 50])
def test_calm_and_energize_hold_one_slot_then_reach_the_goal_quickly(strategy: str, emotion: str, n: int) -> None:
    """Issue 11: at most one slot at the mood, the goal by 30 % of the list, then stay there."""
    mood = mood_from_emotion(emotion)
    start = mood_to_unit(mood.valence, mood.arousal)
    path = target_path(mood, strategy, n)
    goal = path[-1]
    if math.dist(start, goal) < 1e-9:
        return  # already at the goal (e.g. energize from surprise): nothing to move
    assert sum(math.dist(point, start) < 1e-9 for point in path) == 1
    reached = next(i for i, point in enumerate(path) if math.dist(point, goal) < 1e-9)
    assert reached <= max(3, math.ceil(0.3 * (n - 1)))
    assert all(math.dist(point, goal) < 1e-9 for point in path[reached:])


def test_energize_from_neutral_is_lively_from_the_second_slot() -> None:
    path = target_path(mood_from_emotion("neutral"), "energize", 12)
    assert path[0][1] == 0.5 and path[1][1] > 0.6 and path[3][1] > 0.8


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
    assert progress(0, 20, "calm") == 0.0 and progress(1, 20, "calm") > 0.25 and progress(6, 20, "calm") == 1.0


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
