"""Reasons that stay true to the item and the path, and differ from item to item.

``moodtape recommend happy --strategy uplift`` said "a first small step up from your happy mood" and
"climbing out of the happy mood" (twice each) on a path whose valence never moves (happy sits at
0.9, uplift's goal at least 0.8), "brighter still" of an item darker than the one before, and the
same line on two items.
"""

from __future__ import annotations

from collections import Counter

from moodtape.providers.catalog import Catalog
from moodtape.recommender.engine import Recommender
from moodtape.recommender.mood import mood_from_emotion
from moodtape.recommender.reasons import explain
from moodtape.recommender.result import RecommendedItem
from moodtape.types import Track

#: Purposes that say the list moves the mood up (uplift's steps).
LIFTING = ("step up", "lift your", "climbing out", "lighter than your", "brighter still", "somewhere brighter")


def _entries(*valences: float) -> list[RecommendedItem]:
    tracks = [Track(title=f"t{i}", artist=f"a{i}", valence=v, energy=0.5) for i, v in enumerate(valences)]
    return [RecommendedItem(track, i, (0.5, 0.5), 0.0) for i, track in enumerate(tracks)]


def test_uplift_from_a_happy_mood_does_not_say_it_lifts() -> None:
    result = Recommender([], Catalog.builtin()).recommend(mood_from_emotion("happy"), strategy="uplift", n=20, seed=0)
    assert result.targets[0][0] == result.targets[-1][0] == 0.9  # the path's valence never moves
    lifting = [entry.reason for entry in result.items if any(word in entry.reason for word in LIFTING)]
    assert lifting == []
    assert "your happy mood is bright already: to keep it there" in " ".join(e.reason for e in result.items)


def test_no_reason_is_said_on_two_items() -> None:
    result = Recommender([], Catalog.builtin()).recommend(mood_from_emotion("happy"), strategy="uplift", n=20, seed=0)
    said = Counter(entry.reason for entry in result.items)
    assert said.most_common(1)[0][1] == 1


def test_a_sad_uplift_still_lifts() -> None:
    """Where the path does rise, the steps are said as before."""
    result = Recommender([], Catalog.builtin()).recommend(mood_from_emotion("sad"), strategy="uplift", n=12, seed=0)
    assert result.targets[-1][0] - result.targets[0][0] > 0.3
    assert any("step up" in entry.reason or "lift your" in entry.reason for entry in result.items)


def test_brighter_than_the_last_only_of_an_item_that_is() -> None:
    entries = _entries(0.9, 0.7, 0.6, 0.5, 0.4, 0.3)  # each darker than the one before, at the end of an uplift
    lines = explain(entries, "uplift", "sad", [1.0] * len(entries))
    assert not [line for line in lines if "brighter still" in line or "brighter than the last" in line]
    brighter = explain(_entries(0.5, 0.7), "uplift", "sad", [1.0, 1.0])
    assert "brighter still" in brighter[1]


def test_each_stage_says_its_synonyms_before_repeating_one() -> None:
    entries = _entries(*([0.5] * 5))
    lines = explain(entries, "match", "happy", [0.0] * 5)
    assert len({line.split(" — ")[1] for line in lines}) == 5
