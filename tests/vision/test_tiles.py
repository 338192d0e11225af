"""Tiles: they cover the picture, overlap by enough for a small face, and hold barely more pixels."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from moodtape.types import Box
from moodtape.vision.tiles import tile_windows


@pytest.mark.parametrize(
    ("shape", "side", "overlap"), [((3000, 4000), 1920, 160), ((2000, 12000), 2715, 227), ((1921, 500), 1920, 0)]
)
def test_tiles_cover_the_picture_and_overlap(shape: tuple[int, int], side: int, overlap: int) -> None:
    tiles = tile_windows(shape, side, overlap)
    covered = np.zeros(shape, np.int32)
    for tile in tiles:
        assert 0 < tile.w <= side and 0 < tile.h <= side
        covered[tile.y : tile.y + tile.h, tile.x : tile.x + tile.w] += 1
    assert covered.min() >= 1 and tiles[-1].x + tiles[-1].w == shape[1] and tiles[-1].y + tiles[-1].h == shape[0]
    for starts in ({tile.x: tile.w for tile in tiles}, {tile.y: tile.h for tile in tiles}):
        assert all(a + starts[a] - b >= overlap for a, b in itertools.pairwise(sorted(starts)))
    assert covered.sum() <= covered.size * 1.25  # the overlaps cost little


def test_a_picture_smaller_than_a_tile_is_one_tile() -> None:
    assert tile_windows((480, 640), 1920, 160) == [Box(0, 0, 640, 480)]


def test_an_overlap_as_large_as_the_tile_is_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        tile_windows((3000, 4000), 160, 160)
