"""benchmarks/ensemble_choice.py: which groups of networks it scores, and how it averages them."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch", reason="the benchmark runs PyTorch networks (pip install -e .[train])")
from benchmarks.ensemble_choice import group_accuracy, groups


def test_every_network_alone_then_every_group_of_two_or_more() -> None:
    assert groups(3) == [(0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2)]
    assert len(groups(4)) == 4 + 6 + 4 + 1


def test_a_group_is_scored_on_its_averaged_logits_not_by_vote() -> None:
    labels = np.array([0, 1])
    # Network 0 is sure and right on face 0, unsure and wrong on face 1; network 1 the other way round.
    sure_then_unsure = np.array([[5.0, 0.0], [0.2, 0.0]], dtype=np.float32)
    unsure_then_sure = np.array([[0.0, 0.2], [0.0, 5.0]], dtype=np.float32)
    logits = [sure_then_unsure, unsure_then_sure]
    assert group_accuracy(logits, labels, (0,)) == 0.5
    assert group_accuracy(logits, labels, (1,)) == 0.5
    assert group_accuracy(logits, labels, (0, 1)) == 1.0
