"""Previews (Deezer, iTunes) when several instances share Redis, and when Redis is away.

Before:
- Visitors getting the same list at the same moment each looked every song up: 8 at once on two
  instances sent Deezer 24 calls for 3 songs (the search providers had single flight, previews not).
- iTunes' "20 calls a minute" was counted in each process: two instances (or ``serve --processes
  2`` behind one address) asked Apple twice as often as it allows.
- A Redis that was down made every list with songs a 503 through the preview cache, though
  previews are a nicety that "never breaks a list".
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from moodtape.config import Settings
from moodtape.providers.previews import WINDOW_RETRY_S, DeezerPreviews, ITunesPreviews, PreviewInfo
from moodtape.providers.registry import enrichers
from moodtape.state.cache import RedisCache
from moodtape.state.connection import connect
from moodtape.types import Track
from services import free_port

SONGS = [Track(f"Song {n}", f"Artist {n}", 0.5, 0.5, deezer_id=str(100 + n)) for n in range(3)]


class CountingDeezer:
    """Deezer's ``/track/{id}``, slow enough that simultaneous callers overlap."""

    def __init__(self, delay: float = 0.3) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()
        self._delay = delay

    def __call__(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self._delay)
        with self._lock:
            self.calls.append(request.url.path)
        track_id = int(request.url.path.rsplit("/", 1)[1])
        return httpx.Response(
            200,
            json={
                "id": track_id,
                "preview": f"https://cdn.example/{track_id}.mp3",
                "link": f"https://deezer.example/{track_id}",
                "album": {"cover_medium": f"https://img.example/{track_id}.jpg"},
            },
        )


def _deezer(redis_url: str, fake: CountingDeezer) -> DeezerPreviews:
    cache = RedisCache(
        connect(redis_url), "deezer", 600.0, encode=lambda info: info.__dict__, decode=lambda d: PreviewInfo(**d)
    )
    return DeezerPreviews(httpx.Client(transport=httpx.MockTransport(fake)), cache=cache)


def test_simultaneous_lists_on_two_instances_look_each_song_up_once(redis_url: str) -> None:
    fake = CountingDeezer()
    instances = [_deezer(redis_url, fake), _deezer(redis_url, fake)]  # two machines, one Redis
    with ThreadPoolExecutor(8) as pool:
        lists = list(pool.map(lambda n: instances[n % 2].enrich(SONGS), range(8)))
    assert sorted(fake.calls) == [f"/track/{100 + n}" for n in range(3)], f"{len(fake.calls)} calls for 3 songs"
    for filled in lists:
        assert [track.preview_url for track in filled] == [f"https://cdn.example/{100 + n}.mp3" for n in range(3)]


def test_a_redis_that_is_down_leaves_previews_uncached_not_the_list_broken() -> None:
    fake = CountingDeezer(delay=0)
    gone = connect(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    cache = RedisCache(gone, "deezer", 600.0, encode=lambda info: info.__dict__, decode=lambda d: PreviewInfo(**d))
    deezer = DeezerPreviews(httpx.Client(transport=httpx.MockTransport(fake)), cache=cache)
    started = time.monotonic()
    filled = deezer.enrich(SONGS)
    assert [track.preview_url for track in filled] == [f"https://cdn.example/{100 + n}.mp3" for n in range(3)]
    assert len(fake.calls) == 3
    assert deezer.last_failure is None
    assert time.monotonic() - started < 5


def test_itunes_calls_a_minute_are_counted_across_instances(redis_url: str, tmp_path: Path) -> None:
    calls: list[str] = []
    lock = threading.Lock()

    def itunes(request: httpx.Request) -> httpx.Response:
        with lock:
            calls.append(request.url.params["term"])
        return httpx.Response(200, json={"results": []})

    settings = Settings.load(
        overrides={"MOODTAPE_REDIS_URL": redis_url, "MOODTAPE_DATA_DIR": str(tmp_path)}, environ={}, dotenv=None
    )
    instances = []
    for _ in range(2):  # two instances built as `moodtape serve` builds them
        built = enrichers(settings, http=httpx.Client(transport=httpx.MockTransport(itunes)))
        itunes_previews = [e for e in built if isinstance(e, ITunesPreviews)]
        assert len(itunes_previews) == 1
        itunes_previews[0].max_lookups = 20
        instances.append(itunes_previews[0])
    limit = instances[0].per_minute
    songs = [Track(f"Other {n}", f"Band {n}", 0.5, 0.5) for n in range(limit)]
    instances[0].enrich(songs[: limit // 2 + 3])
    instances[1].enrich(songs[limit // 2 + 3 :])
    instances[1].enrich([Track(f"Late {n}", f"Band {n}", 0.5, 0.5) for n in range(5)])
    assert len(calls) == limit, f"{len(calls)} calls to iTunes within a minute (it allows {limit})"
    assert instances[1].last_error is not None and "left for later" in instances[1].last_error


class FrozenWindow:
    """A shared window whose Redis does not answer: each ask costs its timeout."""

    def __init__(self) -> None:
        self.asked = 0

    def take(self, limit: int, seconds: float) -> bool:
        from moodtape.state.connection import SharedStateError

        self.asked += 1
        raise SharedStateError("the shared state is not answering (TimeoutError)")


def test_itunes_counts_in_its_process_while_the_shared_window_is_away() -> None:
    calls: list[str] = []

    def itunes(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params["term"])
        return httpx.Response(200, json={"results": []})

    window = FrozenWindow()
    previews = ITunesPreviews(
        httpx.Client(transport=httpx.MockTransport(itunes)), per_minute=4, max_lookups=10, window=window
    )
    previews.enrich([Track(f"Song {n}", f"Band {n}", 0.5, 0.5) for n in range(6)])
    assert len(calls) == 4  # the process's own window still holds
    assert window.asked == 1  # asked once, not once a song


def test_the_shared_window_is_asked_again_after_its_retry_time() -> None:
    """The 10-s pause before asking a shared window that did not answer runs on the enricher's clock."""
    now = [1000.0]
    window = FrozenWindow()
    previews = ITunesPreviews(
        httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json={"results": []}))),
        per_minute=100,
        max_lookups=10,
        window=window,
        clock=lambda: now[0],
    )
    previews.enrich([Track("Song", "Band", 0.5, 0.5)])
    assert window.asked == 1
    now[0] += WINDOW_RETRY_S - 1
    previews.enrich([Track("Song 2", "Band", 0.5, 0.5)])
    assert window.asked == 1
    now[0] += 2
    previews.enrich([Track("Song 3", "Band", 0.5, 0.5)])
    assert window.asked == 2
