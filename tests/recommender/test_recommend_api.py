from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from moodtape.config import Settings
from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError
from moodtape.recommender import api, recommend
from moodtape.recommender.engine import Recommender
from moodtape.types import Box, Face, Mood


@pytest.fixture(autouse=True)
def _default(engine: Recommender) -> Iterator[None]:
    api.set_default_recommender(engine)
    yield
    api.set_default_recommender(None)


def _probs(label: str) -> dict[str, float]:
    probs = dict.fromkeys(EMOTIONS, 0.0)
    probs[label] = 1.0
    return probs


@pytest.mark.parametrize(
    "mood",
    [
        "sad",
        _probs("sad"),
        Mood(-0.7, -0.4, emotion="sad"),
        [Face(Box(0, 0, 50, 50), _probs("sad"))],
    ],
)
def test_every_mood_input_works(mood: object) -> None:
    result = recommend(mood, n=5, seed=0)  # type: ignore[arg-type]
    assert result.mood.emotion == "sad"
    assert result.strategy == "uplift"
    assert len(result.items) == 5


def test_strategy_and_kind_pass_through() -> None:
    result = recommend("happy", strategy="calm", kind="videos", n=3, seed=0)
    assert result.strategy == "calm" and result.kind == "videos"


@pytest.mark.parametrize(
    ("mood", "options", "message"),
    [
        ("bored", {}, "unknown emotion"),
        ({"sad": 0.3}, {}, "sum to 1"),
        ({"sad": float("nan"), "happy": 1.0}, {}, "finite"),
        ("sad", {"strategy": "party"}, "unknown strategy"),
        ("sad", {"n": 0}, "n must"),
        ("sad", {"n": 10_000}, "n must"),
        (42, {}, "mood must be"),
        ([], {}, "no faces"),
    ],
)
def test_bad_input_is_a_clear_data_error(mood: object, options: dict[str, object], message: str) -> None:
    with pytest.raises(DataError, match=message):
        recommend(mood, **options)  # type: ignore[arg-type]


def test_the_default_engine_comes_from_the_settings(tmp_path: Path) -> None:
    catalog_module = pytest.importorskip("moodtape.providers.catalog")
    settings = Settings.load(
        overrides={"MOODTAPE_DATA_DIR": str(tmp_path), "MOODTAPE_OFFLINE": "true"}, environ={}, dotenv=None
    )
    engine = api.build_recommender(settings)
    assert engine.providers == () and engine.enrichers == ()
    assert isinstance(engine.catalog, catalog_module.Catalog)
    assert engine.store is not None
    engine.store.set_consent("api-test", True)  # history is kept only for sessions that chose it
    result = recommend("sad", n=5, seed=0, session_id="api-test", recommender=engine)
    assert len(result.items) == 5 and result.sources == ("catalog",)
    [kept] = engine.store.lists("api-test")
    assert [item["key"] for item in kept.items] == [entry.item.key for entry in result.items]
    assert (tmp_path / "moodtape.db").is_file()
