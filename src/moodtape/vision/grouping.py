"""Grouping the Haar cascade's raw hits into faces, as OpenCV does, but keeping each group's score.

The cascade fires many times around a face (neighbouring positions and scales). OpenCV's
``groupRectangles`` clusters those hits, averages each cluster into one box, and drops boxes
nested in a better-supported one; it tells how many hits each cluster had but not how confident
the best of them was. moodtape wants both kinds of evidence (see
``DetectorSettings.weak_group_step``), so this module repeats OpenCV's clustering in NumPy and
keeps the best score per cluster. A test checks that boxes and scores match OpenCV's own
``detectMultiScale3`` exactly.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

GROUP_TOLERANCE = 0.2  # OpenCV's GROUP_EPS: hits whose corners differ by under 20 % of the size are one face

IntArray = npt.NDArray[np.integer[Any]]


class HitGroup(NamedTuple):
    """One cluster of cascade hits: the averaged box (x, y, w, h), how many hits, the best score."""

    box: tuple[int, int, int, int]
    hits: int
    score: float


def cluster_hits(hits: IntArray, scores: npt.NDArray[np.float64]) -> list[HitGroup]:
    """Every cluster of ``hits`` (``(n, 4)`` boxes) with OpenCV's similarity rule, lone hits included.

    Two hits are similar when each of their corners differs by at most 20 % of their mean smaller
    side; clusters are the connected parts of that relation (a chain of similar hits is one face).
    """
    if len(hits) == 0:
        return []
    boxes = np.asarray(hits, dtype=np.int64).reshape(-1, 4)
    labels = _connected(_similar(boxes))
    _, member_of, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    sums = np.zeros((len(sizes), 4), dtype=np.int64)
    np.add.at(sums, member_of, boxes)
    best = np.full(len(sizes), -np.inf)
    np.maximum.at(best, member_of, scores)
    # OpenCV sums the members' coordinates and rounds sum × (1/n) in single precision.
    means = np.rint(sums.astype(np.float32) * (np.float32(1.0) / sizes.astype(np.float32))[:, None]).astype(int)
    return [
        HitGroup((int(x), int(y), int(w), int(h)), int(size), float(score))
        for (x, y, w, h), size, score in zip(means, sizes, best, strict=True)
    ]


def drop_nested(groups: list[HitGroup]) -> list[HitGroup]:
    """Drop groups lying inside another one that has more support (OpenCV's rule, same margins).

    A group goes when a group around it (within 20 % of the outer box's size) has more than
    max(3, its own) hits, or when it has fewer than 3 hits itself.
    """
    return [
        inner
        for i, inner in enumerate(groups)
        if not any(j != i and _nested_in(inner, outer) for j, outer in enumerate(groups))
    ]


def _nested_in(inner: HitGroup, outer: HitGroup) -> bool:
    x1, y1, w1, h1 = inner.box
    x2, y2, w2, h2 = outer.box
    dx, dy = round(w2 * GROUP_TOLERANCE), round(h2 * GROUP_TOLERANCE)
    inside = x1 >= x2 - dx and y1 >= y2 - dy and x1 + w1 <= x2 + w2 + dx and y1 + h1 <= y2 + h2 + dy
    return inside and (outer.hits > max(3, inner.hits) or inner.hits < 3)


def _similar(boxes: IntArray) -> npt.NDArray[np.bool_]:
    """(n, n) table: are two boxes' corners within OpenCV's tolerance of each other?"""
    x, y, w, h = (boxes[:, i].astype(np.float64) for i in range(4))
    # The same double-precision arithmetic, in the same order, as OpenCV's SimilarRects.
    tolerance = GROUP_TOLERANCE * (np.minimum.outer(w, w) + np.minimum.outer(h, h)) * 0.5
    close = np.abs(np.subtract.outer(x, x)) <= tolerance
    close &= np.abs(np.subtract.outer(y, y)) <= tolerance
    close &= np.abs(np.subtract.outer(x + w, x + w)) <= tolerance
    close &= np.abs(np.subtract.outer(y + h, y + h)) <= tolerance
    return close


def _connected(adjacent: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Component labels of a symmetric adjacency table: each node takes its component's lowest index."""
    labels = np.arange(len(adjacent))
    while True:  # every node takes the lowest label among its neighbours until nothing changes
        updated = np.where(adjacent, labels[None, :], len(adjacent)).min(axis=1)
        if np.array_equal(updated, labels):
            return labels
        labels = updated
