"""After a wait on another visitor, a call starts only what its budget can finish (session 36).

- A first Spotify page that waited its 12.5 s for another visitor's claim (never given back) and
  then had to fetch a token still sent the token's first attempt and its own, as a first page
  always goes: 22.3 s into a search of 10 s. Now, having waited, it keeps to the 17.5 s a first
  page may take: a token is fetched only while one page attempt still fits after it, so it sends
  nothing and the catalog stands in after 12.5 s, saying why. The same after a wait on the token
  lock that ends without a token. A waiter that still has room fetches its token, which is kept
  for the next visitor.
- Deezer and iTunes had no budget at all: another visitor's lookup of the same song was waited for
  up to 7 s a song, and their own lookups went on however slow. Now one ``enrich()`` keeps to
  10 s like a search: waits end with it, no lookup starts once less than one attempt is left,
  songs already cached are still filled, and the songs left say so in ``last_error``.

Fake transport and fake clock (``fake_time`` and ``FakeLock`` of ``test_budget35_waits.py``);
nothing sleeps.
"""

from __future__ import annotations

import httpx
import pytest
from tests.providers.test_budget34_cut_short import FIRST_CALL_LIMIT, SLOW, THREE_REGIONS, Spotify, _spotify
from tests.providers.test_budget35_waits import NEXT_TRY, FakeTime, _page_key, hold_token_lock
from tests.providers.test_svc33_preview_pauses import deezer_track, song

import moodtape.providers.http as http_module
from moodtape.errors import ProviderError
from moodtape.providers.previews import DeezerPreviews, ITunesPreviews, PreviewInfo

#: How long a first page waits for a claim: until its own attempt must start (17.5 s - 5 s).
FIRST_PAGE_WAIT = FIRST_CALL_LIMIT - 5.0
#: Seconds one ``enrich()`` may take (``previews.SEARCH_BUDGET``), as a search.
BUDGET = 10.0
#: A preview service answering just before its 3 s timeout.
SLOW_LOOKUP = 2.9


@pytest.fixture
def fake_time(clock, monkeypatch) -> FakeTime:
    """Claims lapse and waiters sleep on the test's clock (as in ``test_budget35_waits.py``)."""
    fake = FakeTime(clock)
    monkeypatch.setattr(http_module, "time", fake)
    return fake


# --- Spotify: a first page after a wait ---


def test_a_first_page_that_waited_for_a_claim_fetches_no_token_it_has_no_time_to_use(clock, fake_time) -> None:
    """The known limit of session 35: token and page answering in 4.9 s, 10 tracks after 22.3 s."""
    fake = Spotify(clock, token_delay=SLOW)
    provider = _spotify(clock, fake)
    provider._cache.claim(_page_key(provider, 0), FIRST_CALL_LIMIT)  # another visitor's, never given back
    started = clock.now
    with pytest.raises(ProviderError, match="ran out of time"):  # the catalog stands in, and says why
        provider.tracks(THREE_REGIONS)
    assert clock.now - started == pytest.approx(FIRST_PAGE_WAIT)  # 12.5 s; was 22.3 s
    assert fake.tokens == 0 and fake.searches == []  # was a token and a page, both past the budget


def test_a_first_page_that_waited_on_the_token_lock_fetches_no_token_it_has_no_time_to_use(clock) -> None:
    """Another thread held the lock 10 s and failed to get a token: this page fetched one (4.9 s)
    and sent itself, ending at 19.8 s. Now 5 s + 5 s no longer fit in the 7.5 s left."""
    fake = Spotify(clock, token_delay=SLOW)
    provider = _spotify(clock, fake)
    hold_token_lock(provider, clock, 10.0)
    started = clock.now
    with pytest.raises(ProviderError, match="ran out of time"):
        provider.tracks(THREE_REGIONS)
    assert clock.now - started == pytest.approx(10.0)  # was 19.8 s
    assert fake.tokens == 0 and fake.searches == []


def test_a_first_page_that_waited_with_room_left_still_goes_and_keeps_its_token(clock, fake_time) -> None:
    """Unchanged: the other visitor's call failed and gave its claim back at 3 s, so a token and a
    page still fit in the first page's 17.5 s; the token is kept, and the next visitor fetches none."""
    fake = Spotify(clock, token_delay=SLOW)
    provider = _spotify(clock, fake)
    release = provider._cache.claim(_page_key(provider, 0), FIRST_CALL_LIMIT)
    assert release is not None
    started = clock.now
    fake_time.at(started + 3.0, release)
    assert len(provider.tracks(THREE_REGIONS)) == 10
    assert clock.now - started == pytest.approx(3.0 + 2 * SLOW, abs=0.1)  # waited, then token and page
    assert (fake.tokens, len(fake.searches)) == (1, 1)
    provider.tracks(THREE_REGIONS)  # the next visitor: more pages, the same token
    assert fake.tokens == 1 and len(fake.searches) > 1


# --- Deezer and iTunes ---


def _enricher(kind: str, clock, handler) -> DeezerPreviews | ITunesPreviews:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    if kind == "deezer":
        return DeezerPreviews(http, clock=clock, sleep=clock.advance)
    return ITunesPreviews(http, clock=clock, sleep=clock.advance, per_minute=100)


def _info(n: int) -> PreviewInfo:
    return PreviewInfo(preview_url=f"https://previews.test/{n}.mp3", artwork_url=f"https://art.test/{n}.jpg")


def _answer(request: httpx.Request, sent: list[httpx.Request], clock) -> httpx.Response:
    """Either service, answering a matching song in 2.9 s."""
    sent.append(request)
    clock.advance(SLOW_LOOKUP)
    if request.url.host == "api.deezer.com":
        return httpx.Response(200, json=deezer_track(int(request.url.path.rsplit("/", 1)[-1])))
    n = int(request.url.params["term"].split()[-1])
    item = {"artistName": f"Artist {n}", "trackName": f"Song {n}", "previewUrl": f"https://previews.test/{n}.m4a"}
    return httpx.Response(200, json={"results": [item]})


@pytest.mark.parametrize("kind", ["deezer", "itunes"])
def test_an_enricher_waits_for_another_visitors_lookups_only_until_its_budget_ends(kind, clock, fake_time) -> None:
    """Another visitor is looking up the same songs, one every 2.9 s: each was waited for, up to
    7 s a song, so the list came after 58 s (Deezer's 20 songs) or 29 s (iTunes' 10). Now the
    songs answered while an attempt still fitted in 10 s are taken, the rest read from the cache."""
    sent: list[httpx.Request] = []
    enricher = _enricher(kind, clock, lambda request: _answer(request, sent, clock))
    songs = [song(n) for n in range(1, enricher.max_lookups + 1)]
    started = clock.now

    def looks_up(i: int) -> None:
        """The other visitor claims song ``i``, stores its answer 2.9 s later and goes on to the next."""
        key = enricher._key(songs[i])
        release = enricher._cache.claim(key, enricher._client.longest_request)
        assert release is not None

        def answered() -> None:
            enricher._cache.set(key, _info(i + 1))
            release()
            if i + 1 < len(songs):
                looks_up(i + 1)

        fake_time.at(clock.now + SLOW_LOOKUP, answered)

    looks_up(0)
    filled = enricher.enrich(songs)
    assert clock.now - started == pytest.approx(3 * SLOW_LOOKUP, abs=3 * NEXT_TRY)  # was 58 s (Deezer), 29 s
    assert [t.preview_url is not None for t in filled] == [True] * 3 + [False] * (len(songs) - 3)
    assert sent == []  # nothing sent late beside the other visitor's lookups
    assert enricher.last_failure is None  # slow is no failure: the list is not told previews failed
    assert enricher.last_error == (
        f"{enricher._client.service} answered slowly: {len(songs) - 3} track(s) left for later "
        f"(a list waits at most 10 s for {enricher._client.service})."
    )


@pytest.mark.parametrize("kind", ["deezer", "itunes"])
def test_an_enricher_answering_slowly_keeps_to_its_budget_and_still_reads_its_cache(kind, clock) -> None:
    """Every lookup answering in 2.9 s: Deezer's 20 took 58 s, iTunes' 10 29 s. Now lookups start
    while an attempt (3 s) still fits in 10 s: 3 of them, 8.7 s; songs already cached still fill."""
    sent: list[httpx.Request] = []
    enricher = _enricher(kind, clock, lambda request: _answer(request, sent, clock))
    songs = [song(n) for n in range(1, enricher.max_lookups + 1)]
    enricher._cache.set(enricher._key(songs[-1]), _info(len(songs)))
    started = clock.now
    filled = enricher.enrich(songs)
    assert clock.now - started == pytest.approx(3 * SLOW_LOOKUP)  # was 19 × 2.9 s or 9 × 2.9 s
    assert len(sent) == 3
    assert [t.preview_url is not None for t in filled] == [True] * 3 + [False] * (len(songs) - 4) + [True]
    assert enricher.last_failure is None and "answered slowly" in (enricher.last_error or "")


@pytest.mark.parametrize("kind", ["deezer", "itunes"])
def test_an_enricher_waits_for_a_lookup_never_answered_only_until_its_budget_ends(kind, clock, fake_time) -> None:
    """Two songs looked up (2.9 s each), the third claimed by another visitor whose process died:
    it was waited for 7 s and then looked up, the list ending at 15.7 s. Now the wait ends with
    the 10 s, and no lookup goes out after it."""
    sent: list[httpx.Request] = []
    songs = [song(n) for n in range(1, 4)]

    def handler(request: httpx.Request) -> httpx.Response:
        response = _answer(request, sent, clock)
        if len(sent) == 2:  # as the second song is answered, another visitor begins the third
            enricher._cache.claim(enricher._key(songs[2]), enricher._client.longest_request)  # never given back
        return response

    enricher = _enricher(kind, clock, handler)
    started = clock.now
    filled = enricher.enrich(songs)
    assert clock.now - started == pytest.approx(BUDGET)  # was 15.7 s
    assert len(sent) == 2  # was 3: the third looked up 12.8 s into the list
    assert [t.preview_url is not None for t in filled] == [True, True, False]
    assert enricher.last_failure is None and "answered slowly: 1 track(s)" in (enricher.last_error or "")
