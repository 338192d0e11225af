"""Review mends of the session-36 budgets: a retry cut off by the time is late, not a failure, and
a token renewed after a 401 keeps to the limits its page keeps to.

- Deezer and iTunes: each lookup is held to its list's 10 s, so near the end a 503 (or Deezer's
  429) whose 0.25 s retry no longer fit was raised as the final error, and the list ended as a
  failure: the service counted it toward its pause (a 429 paused Deezer 60 s), the songs after it
  were not read from the cache, and the visitor read "No previews or artwork: ...". Now that song
  is late, as a lookup with no time to start is, and the songs after it are still read from the
  cache. The lookups allowed and the time, when both left songs, are both named.
- Spotify: a token lock held for a moment by another thread reading the cached token counted as a
  wait on another visitor, taking "the first attempt always goes" from the token renewed after a
  401 (the first page gave up 10 s in); and after a real wait on the lock, the renewal went with
  the page's own limits, ending the search at 26.6 s where its first page may take 17.5 s. A token
  another thread renewed meanwhile is used, no longer dropped.

Fake transports and a fake clock; nothing sleeps.
"""

from __future__ import annotations

import httpx
import pytest
from tests.providers.test_budget34_cut_short import FIRST_CALL_LIMIT, SLOW, THREE_REGIONS, Spotify, _spotify
from tests.providers.test_budget35_waits import FakeLock, FakeTime, hold_token_lock
from tests.providers.test_svc33_preview_pauses import deezer_track, song

import moodtape.providers.http as http_module
from moodtape.errors import ProviderError
from moodtape.providers.previews import DeezerPreviews, ITunesPreviews, PreviewInfo

#: A preview service answering just before its 3 s timeout.
SLOW_LOOKUP = 2.9
#: When the third song's lookup is answered with an error: 7.8 s into the list, where its 0.25 s
#: retry and a 3 s attempt would end past the list's 10 s.
LATE_ERROR_AFTER = 2.0


def _enricher(kind: str, clock, handler, **kwargs) -> DeezerPreviews | ITunesPreviews:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    if kind == "deezer":
        return DeezerPreviews(http, clock=clock, sleep=clock.advance, **kwargs)
    return ITunesPreviews(http, clock=clock, sleep=clock.advance, per_minute=100, **kwargs)


def _number(request: httpx.Request) -> int:
    if request.url.host == "api.deezer.com":
        return int(request.url.path.rsplit("/", 1)[-1])
    return int(request.url.params["term"].split()[-1])


def _found(request: httpx.Request, clock) -> httpx.Response:
    """Either service, answering a matching song in 2.9 s."""
    clock.advance(SLOW_LOOKUP)
    n = _number(request)
    if request.url.host == "api.deezer.com":
        return httpx.Response(200, json=deezer_track(n))
    item = {"artistName": f"Artist {n}", "trackName": f"Song {n}", "previewUrl": f"https://previews.test/{n}.m4a"}
    return httpx.Response(200, json={"results": [item]})


def _cached(n: int) -> PreviewInfo:
    return PreviewInfo(preview_url=f"https://previews.test/{n}.mp3", artwork_url=f"https://art.test/{n}.jpg")


@pytest.mark.parametrize(("kind", "status"), [("deezer", 503), ("deezer", 429), ("itunes", 503)])
def test_an_error_whose_retry_the_list_has_no_time_for_leaves_that_song_late(kind, status, clock) -> None:
    """Songs 1 and 2 answer in 2.9 s, song 3 with ``status`` at 7.8 s, song 5 is cached. Before:
    "Deezer is having trouble (HTTP 503)" as the list's failure, song 5 unfilled, the 503 held
    back 30 s (a 429: Deezer paused 60 s)."""
    sent: list[int] = []
    first_visit = True

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(_number(request))
        if first_visit and _number(request) == 3:
            clock.advance(LATE_ERROR_AFTER)
            return httpx.Response(status)
        return _found(request, clock)

    enricher = _enricher(kind, clock, handler)
    songs = [song(n) for n in range(1, 6)]
    enricher._cache.set(enricher._key(songs[4]), _cached(5))
    filled = enricher.enrich(songs)
    assert sent == [1, 2, 3]  # no retry past the budget, as before
    assert [t.preview_url is not None for t in filled] == [True, True, False, False, True]  # song 5 was unfilled
    assert enricher.last_failure is None
    assert enricher.last_error == (
        f"{enricher._client.service} answered slowly: 2 track(s) left for later "
        f"(a list waits at most 10 s for {enricher._client.service})."
    )
    assert not enricher._client.paused_now()
    first_visit = False
    clock.advance(1.0)  # the next visitor, a second later: song 3 is asked again, not held back
    again = enricher.enrich(songs[2:3])
    assert sent[3:] == [3] and again[0].preview_url is not None and enricher.last_error is None


@pytest.mark.parametrize("kind", ["deezer", "itunes"])
def test_an_error_early_in_the_list_is_still_retried(kind, clock) -> None:
    """Unchanged: with room for it, the retry goes and the song is filled."""
    statuses = [503]

    def handler(request: httpx.Request) -> httpx.Response:
        if statuses:
            clock.advance(LATE_ERROR_AFTER)
            return httpx.Response(statuses.pop())
        return _found(request, clock)

    enricher = _enricher(kind, clock, handler)
    filled = enricher.enrich([song(1)])
    assert filled[0].preview_url is not None and enricher.last_error is None


def test_songs_left_by_the_lookups_allowed_and_by_the_time_are_both_named(clock, monkeypatch) -> None:
    """One lookup allowed: song 1 looked up, song 2 left by that limit, song 3 claimed by another
    visitor who never answers (waited for until the 10 s end), song 4 left by the time. Before,
    only "2 track(s)" late were named."""
    monkeypatch.setattr(http_module, "time", FakeTime(clock))  # claims lapse and waits pass on the clock
    enricher = _enricher("deezer", clock, lambda request: _found(request, clock), max_lookups=1)
    songs = [song(n) for n in range(1, 5)]
    assert enricher._cache.claim(enricher._key(songs[2]), 60.0) is not None  # another visitor's
    enricher.enrich(songs)
    assert enricher.last_failure is None
    assert enricher.last_error == (
        "Deezer answered slowly: 2 track(s) left for later (a list waits at most 10 s for Deezer). "
        "Deezer: 1 track(s) left for later (at most 1 lookups a list)."
    )


# --- Spotify: the token renewed after a 401 ---


class MomentaryLock(FakeLock):
    """The token lock, free but for its ``busy_at``-th acquire, when another thread holds it for a
    millisecond (reading the cached token)."""

    def __init__(self, clock, busy_at: int) -> None:
        super().__init__(clock)
        self.acquired = 0
        self.busy_at = busy_at

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        self.acquired += 1
        if self.acquired == self.busy_at:
            self.held_until = self.clock.now + 0.001
        return super().acquire(blocking, timeout)


def test_a_momentary_hold_of_the_token_lock_keeps_the_first_pages_renewal(clock) -> None:
    """The first page meets 503, then a 401 10 s in; the lock is held 1 ms as the token is renewed
    (its second acquire). Before: "Spotify answered too slowly" after 10.05 s, no renewal sent."""
    fake = Spotify(clock, page_statuses=(503, 401))
    provider = _spotify(clock, fake)
    provider._token_lock = MomentaryLock(clock, busy_at=2)
    assert len(provider.tracks(THREE_REGIONS)) == 10  # the first page, at 14.95 s
    assert (fake.tokens, len(fake.searches)) == (2, 3)  # renewed and sent again, as when the lock is free


def test_a_401_after_a_wait_on_the_token_lock_renews_within_the_first_pages_limits(clock) -> None:
    """Another thread held the lock 7 s; token 7.0-11.9 s, page 11.9-16.8 s (401). Before: a token
    16.8-21.7 s and the page again 21.7-26.6 s, past the first page's 17.5 s. Now no renewal fits
    (5 s + 5 s after 16.8 s): the catalog stands in, and says why."""
    fake = Spotify(clock, token_delay=SLOW, page_statuses=(401,))
    provider = _spotify(clock, fake)
    hold_token_lock(provider, clock, 7.0)
    started = clock.now
    with pytest.raises(ProviderError, match="ran out of time"):
        provider.tracks(THREE_REGIONS)
    assert clock.now - started <= FIRST_CALL_LIMIT  # was 26.6 s
    assert (fake.tokens, len(fake.searches)) == (1, 1)  # was 2 and 2


def test_a_token_another_thread_renewed_meanwhile_is_used_not_dropped(clock) -> None:
    """While this page met its 401, another thread renewed the token: the page goes again with
    that one. Before, the 401 dropped it and fetched a third."""
    fake = Spotify(clock, page_statuses=(401,))
    provider = _spotify(clock, fake)
    sent_with: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.spotify.com":
            sent_with.append(request.headers["Authorization"])
            if len(sent_with) == 1:  # the other thread's renewal, while this page was in flight
                provider._token = "renewed-elsewhere"
        return fake(request)

    provider._client.http = httpx.Client(transport=httpx.MockTransport(handler))
    assert len(provider.tracks(THREE_REGIONS)) > 0
    assert fake.tokens == 1  # was 2
    assert sent_with[:2] == ["Bearer token-1", "Bearer renewed-elsewhere"]
