"""Calm lists are quieter, slower and more acoustic than energize lists — and more so with the blend.

Measured on the features catalog of ``benchmarks/feature_catalog.py``, imported as a user catalog
(built in code; the figures for the docs come from ``benchmarks/energy_features.py``).
"""

from __future__ import annotations

import pytest
from benchmarks.energy_features import ListMeans, measure
from benchmarks.feature_catalog import feature_rows


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], ListMeans]:
    return measure(feature_rows(1600, seed=3), seeds=1, n=12)


@pytest.mark.parametrize("ranking", ["blend", "energy only"])
def test_calm_is_quieter_slower_more_acoustic_than_energize(
    results: dict[tuple[str, str], ListMeans], ranking: str
) -> None:
    calm, energize = results[("calm", ranking)], results[("energize", ranking)]
    assert calm.loudness_db < energize.loudness_db - 8.0
    assert calm.tempo_bpm < energize.tempo_bpm - 30.0
    assert calm.acousticness > energize.acousticness + 0.3


def test_the_blend_pushes_each_list_further_than_valence_and_energy_alone(
    results: dict[tuple[str, str], ListMeans],
) -> None:
    calm, calm_plain = results[("calm", "blend")], results[("calm", "energy only")]
    energize, energize_plain = results[("energize", "blend")], results[("energize", "energy only")]
    assert calm.loudness_db < calm_plain.loudness_db and calm.tempo_bpm < calm_plain.tempo_bpm
    assert calm.acousticness > calm_plain.acousticness
    assert energize.loudness_db > energize_plain.loudness_db + 1.0 and energize.tempo_bpm > energize_plain.tempo_bpm
    assert energize.acousticness < energize_plain.acousticness
    # and the tracks really are closer to how calm or intense they feel
    assert calm.felt_arousal < calm_plain.felt_arousal and energize.felt_arousal > energize_plain.felt_arousal
