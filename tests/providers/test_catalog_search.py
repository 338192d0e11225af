"""The nearest-candidate search on its own, with points built in code."""

from __future__ import annotations

import numpy as np
import pytest

from moodtape.providers.catalog_search import nearest, normalise_label

POINTS = np.array([(0.0, 0.0), (0.1, 0.0), (0.5, 0.5), (0.9, 1.0), (1.0, 1.0)])


def test_each_target_gets_its_nearest_first_then_the_next_round() -> None:
    allowed = np.arange(len(POINTS))
    assert nearest(POINTS, allowed, ((0.0, 0.0), (1.0, 1.0)), limit=4) == [0, 4, 1, 3]


def test_an_item_near_two_targets_appears_once() -> None:
    allowed = np.arange(len(POINTS))
    assert nearest(POINTS, allowed, ((0.5, 0.5), (0.5, 0.5)), limit=3) == [2, 1, 3]


def test_indices_refer_to_the_allowed_items() -> None:
    allowed = np.array([3, 4], dtype=np.intp)
    assert nearest(POINTS[allowed], allowed, ((0.0, 0.0),), limit=5) == [3, 4]
    assert nearest(POINTS[:0], np.array([], dtype=np.intp), ((0.0, 0.0),), limit=5) == []


@pytest.mark.parametrize(("text", "expected"), [("Hip-Hop", " hip hop "), ("  K_Pop ", " k pop "), ("", "  ")])
def test_labels_are_normalised_for_whole_word_matching(text: str, expected: str) -> None:
    assert normalise_label(text) == expected
