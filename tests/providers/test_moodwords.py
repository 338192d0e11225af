"""The (valence, energy) grid that turns a target path into search words."""

from __future__ import annotations

import pytest

from moodtape.providers.moodwords import clamp_point, interleave, mean_point, region_of, regions


@pytest.mark.parametrize(
    ("point", "cell"),
    [((0.0, 0.0), (0, 0)), ((0.5, 0.5), (1, 1)), ((1.0, 1.0), (2, 2)), ((0.9, 0.1), (2, 0)), ((1.5, -2.0), (2, 0))],
)
def test_region_of(point, cell) -> None:
    assert region_of(point) == cell


def test_regions_keep_path_order_and_the_busiest_cells() -> None:
    path = [(0.1, 0.1)] * 3 + [(0.5, 0.5)] + [(0.6, 0.6)] * 2 + [(0.9, 0.9)] * 4
    found = regions(path, max_regions=2)
    assert [r.bands for r in found] == [(0, 0), (2, 2)]  # the middle cell has the fewest slots
    assert [r.count for r in found] == [3, 4]
    assert found[0].words == ("sad", "slow") and found[1].upbeat


def test_region_point_is_the_mean_of_its_targets() -> None:
    (region,) = regions([(0.4, 0.4), (0.6, 0.5)])
    assert region.point == pytest.approx((0.5, 0.45))
    assert region.words == ("chill",) and not region.upbeat


def test_clamp_and_mean() -> None:
    assert clamp_point((-0.5, 1.5)) == (0.0, 1.0)
    assert mean_point([(0.0, 0.0), (1.0, 2.0)]) == (0.5, 0.5)


def test_interleave_takes_turns_and_drops_repeats() -> None:
    assert interleave([[1, 2, 3], [10, 2], [], [20]], key=lambda x: x) == [1, 10, 20, 2, 3]
    assert interleave([], key=lambda x: x) == []
