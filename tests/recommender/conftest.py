"""Fixtures for the recommender: an in-memory provider over a catalog built in code."""

from __future__ import annotations

import pytest
from recommend_fakes import FakeProvider, make_tracks, make_videos

from moodtape.recommender.engine import Recommender
from moodtape.store import Store
from moodtape.types import Track


@pytest.fixture
def tracks() -> list[Track]:
    return make_tracks()


@pytest.fixture
def catalog(tracks: list[Track]) -> FakeProvider:
    return FakeProvider(tracks, make_videos(), name="catalog")


@pytest.fixture
def store() -> Store:
    return Store(":memory:")


@pytest.fixture
def engine(catalog: FakeProvider, store: Store) -> Recommender:
    return Recommender([], catalog, store=store)
