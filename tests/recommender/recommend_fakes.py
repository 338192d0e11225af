"""Fakes for the recommender tests: an in-memory provider over tracks and videos built in code."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from moodtape.errors import ProviderError
from moodtape.providers.base import Query
from moodtape.types import Track, Video

GENRES = ("pop", "rock", "folk", "jazz", "electronic", "hip hop", "classical", "soul")
CATEGORIES = ("music", "comedy", "nature", "breathing", "motivation", "relaxation")


class FakeProvider:
    """A provider answering from lists given in code; counts its calls."""

    def __init__(self, tracks: Sequence[Track] = (), videos: Sequence[Video] = (), name: str = "fake") -> None:
        self.name = name
        self._tracks = list(tracks)
        self._videos = list(videos)
        self.queries: list[Query] = []

    def tracks(self, query: Query) -> list[Track]:
        self.queries.append(query)
        return list(self._tracks)

    def videos(self, query: Query) -> list[Video]:
        self.queries.append(query)
        return list(self._videos)


class FailingProvider:
    """A live provider that always fails the way a bad key does."""

    def __init__(self, message: str = "Spotify refused the client credentials: check SPOTIFY_CLIENT_ID") -> None:
        self.name = "spotify"
        self.message = message

    def tracks(self, query: Query) -> list[Track]:
        raise ProviderError(self.message)

    def videos(self, query: Query) -> list[Video]:
        raise ProviderError(self.message)


def _around(noise: np.ndarray, full: bool, value: float, j: int) -> float | None:
    return float(np.clip(value + noise[j], 0.0, 1.0)) if full else None


def make_tracks(size: int = 600, seed: int = 0, tracks_per_artist: int = 2) -> list[Track]:
    """Tracks spread evenly over the mood plane; every other one has full audio features."""
    rng = np.random.default_rng(seed)
    tracks = []
    for i in range(size):
        valence, energy = (float(x) for x in rng.uniform(0.0, 1.0, size=2))
        full = i % 2 == 0
        noise = rng.uniform(-0.15, 0.15, size=4)

        tracks.append(
            Track(
                title=f"Song {i}",
                artist=f"Artist {i // tracks_per_artist}",
                valence=valence,
                energy=energy,
                genre=GENRES[i % len(GENRES)],
                deezer_id=str(1000 + i),
                acousticness=_around(noise, full, 1.0 - energy, 0),
                tempo=_around(noise, full, energy, 1),
                loudness=_around(noise, full, energy, 2),
                danceability=_around(noise, full, valence, 3),
            )
        )
    return tracks


def make_videos(size: int = 120, seed: int = 1) -> list[Video]:
    rng = np.random.default_rng(seed)
    return [
        Video(
            title=f"Video {i}",
            channel=f"Channel {i}",
            valence=float(rng.uniform()),
            energy=float(rng.uniform()),
            category=CATEGORIES[i % len(CATEGORIES)],
        )
        for i in range(size)
    ]
