"""Learning from feedback pays off for a simulated listener (a small copy of benchmarks/taste_learning.py)."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from benchmarks.feature_catalog import feature_rows, write_csv
from benchmarks.listeners import listeners
from benchmarks.taste_learning import run_session

from moodtape.providers.catalog import Catalog
from moodtape.recommender.engine import Recommender


@pytest.mark.slow
def test_the_bandit_learns_an_era_fan_and_beats_no_learning_and_random(tmp_path: Path) -> None:
    rows = feature_rows(1200, seed=4)
    catalog = Catalog.from_file(write_csv(rows, tmp_path / "features.csv"))
    engine, tracks, by_title = Recommender([], catalog), catalog.all_tracks(), {r.title: r for r in rows}
    fan = next(listener for listener in listeners(rows) if listener.name == "80s fan")
    shares = {
        method: [run_session(engine, tracks, by_title, fan, method, seed) for seed in range(2)]
        for method in ("bandit", "no learning", "random")
    }
    mean = {method: statistics.fmean(run[20] for run in runs) for method, runs in shares.items()}
    before = statistics.fmean(run[0] for run in shares["bandit"])
    assert mean["bandit"] > before + 0.2
    assert mean["bandit"] > mean["no learning"] + 0.2 and mean["bandit"] > mean["random"] + 0.2
    catalog.close()
