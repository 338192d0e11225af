"""Grouping raw cascade hits: OpenCV's clusters and nesting rule, with each group's best score."""

from __future__ import annotations

import numpy as np

from moodtape.vision.faces import DetectorSettings, FaceDetector
from moodtape.vision.grouping import HitGroup, cluster_hits, drop_nested


def test_a_chain_of_similar_hits_is_one_group_scored_by_its_best_member() -> None:
    # Each hit is within tolerance of the next but the ends are not of each other: still one face.
    hits = np.array([[100 + 5 * i, 100, 50, 50] for i in range(5)])
    scores = np.array([0.0, 0.0, 0.0, 0.0, 9.0])
    assert cluster_hits(hits, scores) == [HitGroup((110, 100, 50, 50), 5, 9.0)]


def test_separate_hits_do_not_lend_each_other_their_scores() -> None:
    hits = np.array([[100, 100, 50, 50], [102, 101, 50, 50], [300, 40, 60, 60]])
    groups = sorted(cluster_hits(hits, np.array([0.1, 0.2, 5.0])))
    assert groups == [HitGroup((101, 100, 50, 50), 2, 0.2), HitGroup((300, 40, 60, 60), 1, 5.0)]
    assert cluster_hits(np.zeros((0, 4), dtype=np.int32), np.zeros(0)) == []


def test_nested_groups_go_only_when_the_outer_one_has_more_support() -> None:
    outer, inner = HitGroup((100, 100, 80, 80), 9, 2.0), HitGroup((120, 120, 40, 40), 4, 3.0)
    assert drop_nested([outer, inner]) == [outer]
    weak_outer = HitGroup((100, 100, 80, 80), 4, 2.0)
    assert drop_nested([weak_outer, inner]) == [weak_outer, inner]
    tiny = HitGroup((120, 120, 40, 40), 2, 3.0)  # fewer than 3 hits: dropped inside any group
    assert drop_nested([weak_outer, tiny]) == [weak_outer]


def test_a_rejected_outer_group_does_not_hide_an_accepted_inner_one() -> None:
    # Nesting is judged among the groups that may be faces, so a weak outer pair that is not a face
    # cannot remove the confident pair inside it.
    hits = np.array([[120, 120, 40, 40], [121, 120, 40, 40], [100, 100, 80, 80], [101, 100, 80, 80]])
    scores = np.array([5.0, 4.0, 0.1, 0.1])
    detector = FaceDetector(DetectorSettings())
    assert [group.box for group in detector._groups(hits, scores)] == [(120, 120, 40, 40)]
