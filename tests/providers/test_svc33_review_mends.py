"""The pause rules of session 33, mended after review: each case here went wrong before.

- A Deezer error inside a 200 reply counted as an answer *and* a failure, so a Deezer failing half
  its lookups so never paused (20 lookups, 20 calls).
- A list that met the pause another thread's failures had just started paused previews again, for
  5 minutes and as an outage, instead of the 30 s started.
- A wall clock stepping back left an hour's answers counted, and a clock swinging back and forth
  kept one counter per swing; thousands of failures in the window kept one entry each.
- Spotify's token fetch, the same request for every visitor, was held back 30 s after one 5xx or
  unreadable reply, which stopped all of Spotify; a 429 whose body could not be read counted as an
  unreadable reply, not a rate limit, and a 5xx's was not retried.
- The CHANGELOG's preview figures: one song's 500 in every list.

Fake transport, fake clock, no sleeping.
"""

from __future__ import annotations

import gzip
import threading

import httpx
import pytest
from tests.object_sizes import bytes_held
from tests.providers.test_svc33_preview_pauses import deezer_track, song

from moodtape.errors import ProviderError, QuotaExceededError
from moodtape.providers.base import Query
from moodtape.providers.http import (
    MAX_REPLY_BYTES,
    TROUBLE_PAUSE,
    TROUBLE_STRIKES,
    RetryPolicy,
    ServiceClient,
    TroubleCounter,
)
from moodtape.providers.previews import PREVIEW_RETRY, DeezerPreviews
from moodtape.providers.spotify import SpotifyProvider

URL = "https://api.example.test/v1/search"
ATTEMPTS = RetryPolicy().attempts
IN_BODY_ERROR = {"error": {"type": "ParameterException", "message": "Wrong", "code": 500}}


def _track_id(request: httpx.Request) -> int:
    return int(request.url.path.rsplit("/", 1)[-1])


# --- 1. a Deezer error in a 200 body is a failure only ---


def test_deezer_failing_half_its_lookups_in_the_body_pauses(make_api, clock, sleeps) -> None:
    """Odd songs get an error in a 200 body, even ones an answer, one lookup a second: paused at the
    third failure (3 of 5). Before: each error counted as an answer too, 20 calls for 20 songs."""

    def handler(request: httpx.Request) -> httpx.Response:
        n = _track_id(request)
        return httpx.Response(200, json=IN_BODY_ERROR if n % 2 else deezer_track(n))

    api = make_api(handler)
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    for n in range(1, 21):
        deezer.enrich([song(n)])
        clock.advance(1)
    assert len(api.requests) == 5  # songs 1–5; the 15 after come within the 30 s pause
    assert "Not trying again" in (deezer.last_failure or "")


def test_deezer_not_found_in_the_body_is_an_answer(make_api, clock, sleeps) -> None:
    """Deezer's "no data" (code 800) passes the check: it is an answer, so it pauses nothing."""
    api = make_api(lambda request: httpx.Response(200, json={"error": {"type": "DataException", "code": 800}}))
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    for n in range(10):
        assert deezer.enrich([song(n)]) == [song(n)]
        assert deezer.last_failure is None
    assert len(api.requests) == 10


# --- 2. a pause started meanwhile is not stretched ---


def test_a_pause_another_thread_started_mid_list_stays_30_s(make_api, clock, sleeps) -> None:
    """While song 1 is looked up, another visitor's 3 songs meet 500s and pause Deezer for 30 s;
    this list's next lookup meets that pause. Before, it paused Deezer again for 300 s."""
    other_visitor_done = False

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal other_visitor_done
        n = _track_id(request)
        if n == 1 and not other_visitor_done:
            other_visitor_done = True
            other = threading.Thread(target=lambda: [deezer.enrich([song(m)]) for m in (91, 92, 93)])
            other.start()
            other.join()
        return httpx.Response(500) if n >= 90 else httpx.Response(200, json=deezer_track(n))

    api = make_api(handler)
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps, cooldown=300)
    filled = deezer.enrich([song(1), song(2)])
    assert [track.preview_url is not None for track in filled] == [True, False]
    assert "Deezer is having trouble (HTTP 500)" in (deezer.last_failure or "")
    sent = len(api.requests)
    assert sent == 1 + TROUBLE_STRIKES * PREVIEW_RETRY.attempts
    clock.advance(TROUBLE_PAUSE)
    (later,) = deezer.enrich([song(3)])
    assert later.preview_url is not None and len(api.requests) == sent + 1


# --- 3. a wall clock that steps back ---


def test_answers_from_before_the_clock_stepped_back_no_longer_count(clock) -> None:
    """100 answers, then the wall clock steps back an hour: they are of unknown age, not fresh.
    Before, they hid the next 3 failures (False, False, False)."""
    troubles = TroubleCounter(clock)
    for _ in range(100):
        troubles.answered()
    clock.advance(-3600)
    assert [troubles.strike(f"r{n}", "500") for n in range(TROUBLE_STRIKES)] == [False] * (TROUBLE_STRIKES - 1) + [True]


def test_a_short_step_back_keeps_the_answers(clock) -> None:
    """A step back shorter than the window is still within it: the answers still count."""
    troubles = TroubleCounter(clock)
    for _ in range(10):
        troubles.answered()
    clock.advance(-5)
    assert [troubles.strike(f"r{n}", "500") for n in range(TROUBLE_STRIKES)] == [False] * TROUBLE_STRIKES


def test_a_request_is_not_held_back_an_hour_by_a_clock_that_stepped_back(clock) -> None:
    troubles = TroubleCounter(clock)
    troubles.strike("a", "HTTP 500")
    assert troubles.failed_lately("a") == ("HTTP 500", TROUBLE_PAUSE)
    clock.advance(-3600)
    assert troubles.failed_lately("a") is None  # before: held back for 3630 s


def _swinging(clock, answers: int) -> TroubleCounter:
    troubles = TroubleCounter(clock)
    for n in range(answers):
        clock.advance(1 if n % 2 else -1)
        troubles.answered()
    return troubles


def test_a_clock_swinging_back_and_forth_keeps_memory_bounded(clock) -> None:
    """Before, each swing began a new counter: 10 000 answers kept about 1 MB more than 1000 did;
    now a counter or two."""
    assert bytes_held(_swinging(clock, 10_000)) - bytes_held(_swinging(clock, 1000)) < 10_000


# --- 4. thousands of failures in the window ---


def _busy(clock, failures: int) -> TroubleCounter:
    """``failures`` different failing requests and twice as many answers, spread over 25 s."""
    troubles = TroubleCounter(clock)
    for n in range(failures):
        troubles.answered()
        troubles.answered()
        assert troubles.strike(f"r{n}", "500") is False  # a third failing: no pause
        clock.advance(25 / failures)
    return troubles


def test_thousands_of_failures_in_the_window_keep_memory_bounded(clock) -> None:
    """Before, every failure in the window was kept (and scanned on each new one): 5000 kept about
    270 KB more than 1000; now one counter a second and the last few failed requests."""
    assert bytes_held(_busy(clock, 5000)) - bytes_held(_busy(clock, 1000)) < 10_000


def test_many_failures_still_pause_at_half(clock) -> None:
    """The failures are counted, not only remembered: 1000 answers, then the 1000th failure pauses."""
    troubles = TroubleCounter(clock)
    for _ in range(1000):
        troubles.answered()
    paused_at = [n for n in range(1, 1001) if troubles.strike(f"r{n}", "500")]
    assert paused_at == [1000]


# --- 5. the token request, a 429's body, a 5xx's body ---

SPOTIFY_TOKEN = {"access_token": "tok", "expires_in": 3600}
HTML_PAGE = b"<html><body>Sign in to the Wi-Fi</body></html>"


def _spotify(api, clock, sleeps) -> SpotifyProvider:
    return SpotifyProvider("s33-id", "s33-secret", http=api.client(), clock=clock, sleep=sleeps, cache_ttl=0)


def _search(provider: SpotifyProvider, word: str) -> list[object]:
    return list(provider.tracks(Query(targets=((0.5, 0.5),), keywords=(word,), limit=5)))


def _failed_token_replies(kind: str) -> list[httpx.Response]:
    """What the token endpoint answers one visitor's fetch before it works again."""
    if kind == "html-200":
        return [httpx.Response(200, content=HTML_PAGE, headers={"Content-Type": "text/html"})]
    return [httpx.Response(500) for _ in range(ATTEMPTS)]  # every attempt of one fetch


@pytest.mark.parametrize("kind", ["html-200", "500"])
def test_one_failed_token_fetch_stops_only_that_search(make_api, clock, sleeps, kind) -> None:
    """The token fetch is the same request for every visitor: holding it back 30 s after one failure
    refused every Spotify search meanwhile, with no call (after a 500 before session 33, and after an
    unreadable reply once those counted like one)."""
    token_replies = _failed_token_replies(kind)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token":
            return token_replies.pop(0) if token_replies else httpx.Response(200, json=SPOTIFY_TOKEN)
        return httpx.Response(200, json={})

    api = make_api(handler)
    spotify = _spotify(api, clock, sleeps)
    with pytest.raises(ProviderError, match=r"could not read|having trouble"):
        _search(spotify, "first")
    clock.advance(1)
    assert _search(spotify, "second") == []  # answered: the token was asked for again
    assert api.paths()[-2:] == ["/api/token", "/v1/search"]


def test_a_dead_token_endpoint_still_pauses_spotify(make_api, clock, sleeps) -> None:
    """Each visitor's token fetch counts as a failed request: 3 of them (3 attempts each) pause
    Spotify 30 s. Before, the first failure held the fetch back, so 3 calls, then no visitor's."""
    api = make_api(lambda request: httpx.Response(500))
    spotify = _spotify(api, clock, sleeps)
    for n in range(10):
        with pytest.raises(ProviderError):
            _search(spotify, f"word{n}")
        clock.advance(1)
    assert len(api.requests) == TROUBLE_STRIKES * ATTEMPTS


def _broken_gzip() -> httpx.ByteStream:
    return httpx.ByteStream(gzip.compress(b'{"error": "slow down"}')[:-8])


def _oversized_gzip() -> httpx.ByteStream:
    return httpx.ByteStream(gzip.compress(b"x" * (MAX_REPLY_BYTES + 1)))


@pytest.mark.parametrize("body", [_broken_gzip, _oversized_gzip], ids=["broken", "oversized"])
def test_a_429_whose_body_cannot_be_read_is_still_a_rate_limit(make_api, clock, sleeps, body) -> None:
    """Before: "could not read", held against that request alone, other requests still sent."""
    api = make_api(
        lambda request: httpx.Response(429, stream=body(), headers={"Content-Encoding": "gzip", "Retry-After": "40"})
    )
    client = ServiceClient(api.client(), "YouTube", timeout=5, sleep=sleeps, clock=clock)
    with pytest.raises(QuotaExceededError, match="limiting how often"):
        client.request("GET", URL, params={"q": "one"})
    sent = len(api.requests)
    with pytest.raises(QuotaExceededError) as another:
        client.request("GET", URL, params={"q": "another"})
    assert len(api.requests) == sent and another.value.retry_after == 40  # paused, for the header's 40 s


def test_a_5xx_whose_body_cannot_be_read_is_retried_like_a_5xx(make_api, clock, sleeps) -> None:
    api = make_api(lambda request: httpx.Response(502, stream=_broken_gzip(), headers={"Content-Encoding": "gzip"}))
    client = ServiceClient(api.client(), "YouTube", timeout=5, sleep=sleeps, clock=clock)
    with pytest.raises(ProviderError, match=r"having trouble \(HTTP 502\)"):
        client.request("GET", URL, params={"q": "one"})
    assert len(api.requests) == ATTEMPTS  # before: 1, "could not read"


# --- 7. the CHANGELOG's preview figures ---


def test_one_songs_500_in_every_list_leaves_the_others_filled(make_api, clock, sleeps) -> None:
    """Song 0 always meets a 500 and leads each of ten lists of 3 songs, one list every 6 s.

    Before, the first list's failure paused previews 5 minutes: 2 calls, none of the 20 other songs
    filled. Now song 0 is held back for 30 s and the others looked up; it is asked again once, at
    30 s, which ends that list.
    """
    api = make_api(
        lambda request: (
            httpx.Response(500)
            if _track_id(request) == 0
            else httpx.Response(200, json=deezer_track(_track_id(request)))
        )
    )
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    filled = 0
    for n in range(10):
        tracks = deezer.enrich([song(0), song(2 * n + 1), song(2 * n + 2)])
        filled += sum(track.preview_url is not None for track in tracks)
        clock.advance(6)
    assert filled == 16  # lists 0 and 5 (at 0 s and 30 s) end at song 0's fresh 500
    assert len(api.requests) == 2 * PREVIEW_RETRY.attempts + 16
