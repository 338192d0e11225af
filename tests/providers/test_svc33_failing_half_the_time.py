"""A service failing at least half the time pauses; one failing now and then pauses no one.

Before, each answer cancelled the oldest 5xx counted, so a service answering exactly as often as it
failed never paused: bad, good repeated 20 times sent 80 calls (each bad search its 3 attempts) and
logged a warning for every bad one. Now a service pauses once 3 different requests failed within
30 s and they are at least half of the requests that ended then (``TROUBLE_SHARE``). Replies that
cannot be read (an HTML page with 200, a truncated body, a broken gzip) count like a 5xx: before,
they paused nothing, and each visitor's YouTube search was sent and spent again.
Fake transport, fake clock, no sleeping.
"""

from __future__ import annotations

import gzip

import httpx
import pytest
from tests.providers.flaky_service import URL, server_bug, youtube_client

from moodtape.errors import ProviderError
from moodtape.providers.base import Query
from moodtape.providers.http import (
    MAX_REPLY_BYTES,
    TROUBLE_PAUSE,
    TROUBLE_STRIKES,
    TROUBLE_WINDOW,
    RetryPolicy,
    ServiceClient,
    TroubleCounter,
)
from moodtape.providers.youtube import YouTubeProvider

ATTEMPTS = RetryPolicy().attempts
BUDGET = 90


def _client(api, clock, sleeps) -> ServiceClient:
    return youtube_client(api.client(), clock, sleeps)


def _rounds(client: ServiceClient, api, clock, pattern: tuple[str, ...], rounds: int) -> tuple[list[int], int]:
    """(calls sent per request, good requests answered) for ``pattern`` repeated, a second apart."""
    sent, answered = [], 0
    for n in range(rounds):
        for index, kind in enumerate(pattern):
            before = len(api.requests)
            try:
                client.request("GET", URL, params={"q": f"{kind}-{n}-{index}"})
                answered += 1
            except ProviderError:
                pass
            sent.append(len(api.requests) - before)
            clock.advance(1)
    return sent, answered


def test_a_service_failing_half_the_time_pauses(make_api, clock, sleeps) -> None:
    """bad, good ×20: paused at the third bad search. Before: never, 80 calls for 40 requests."""
    api = make_api(server_bug)
    sent, _ = _rounds(_client(api, clock, sleeps), api, clock, ("bad", "good"), 20)
    assert sent[:5] == [ATTEMPTS, 1, ATTEMPTS, 1, ATTEMPTS]  # 3 failed of 5: at least half
    assert sent[5 : 5 + TROUBLE_PAUSE - 1] == [0] * (TROUBLE_PAUSE - 1)  # nothing sent while paused
    assert len(api.requests) < 40  # before: 20 × 3 + 20 × 1 = 80


def test_a_service_failing_most_of_the_time_pauses_sooner(make_api, clock, sleeps) -> None:
    """bad, bad, good ×10: paused at the third bad search (before: the fifth, 13 calls)."""
    api = make_api(server_bug)
    sent, _ = _rounds(_client(api, clock, sleeps), api, clock, ("bad", "bad", "good"), 10)
    assert sent[:4] == [ATTEMPTS, ATTEMPTS, 1, ATTEMPTS]
    assert sent[4:] == [0] * 26  # the 26 requests left come within the 30 s pause
    assert len(api.requests) == 3 * ATTEMPTS + 1  # 10, not 13


def test_a_service_failing_a_third_of_the_time_serves_every_good_search(make_api, clock, sleeps) -> None:
    """good, good, bad ×10: the failures stay under half, so nobody is paused."""
    api = make_api(server_bug)
    sent, answered = _rounds(_client(api, clock, sleeps), api, clock, ("good", "good", "bad"), 10)
    assert answered == 20
    assert sent == [1, 1, ATTEMPTS] * 10


def test_the_share_counts_only_the_window(clock) -> None:
    """Answers older than the window do not hide failures now, nor do old failures add up."""
    troubles = TroubleCounter(clock)
    for _ in range(50):
        troubles.answered()
    clock.advance(TROUBLE_WINDOW + 1)
    assert troubles.strike("a", "500") is False
    troubles.answered()
    assert troubles.strike("b", "500") is False
    troubles.answered()
    assert troubles.strike("c", "500") is True  # 3 failed, 2 answered within the window


def test_two_answers_for_each_failure_never_pause(clock) -> None:
    troubles = TroubleCounter(clock)
    for n in range(30):
        troubles.answered()
        troubles.answered()
        assert troubles.strike(f"r{n}", "500") is False
        clock.advance(0.5)


def test_a_pause_starts_the_count_again(clock) -> None:
    troubles = TroubleCounter(clock)
    assert [troubles.strike(f"r{n}", "500") for n in range(TROUBLE_STRIKES)] == [False] * (TROUBLE_STRIKES - 1) + [True]
    assert troubles.strike("after", "500") is False


# --- replies that cannot be read ---

HTML_PAGE = b"<html><body>Service temporarily unavailable</body></html>"


def _unreadable(kind: str) -> httpx.Response:
    if kind == "html-200":
        return httpx.Response(200, content=HTML_PAGE, headers={"Content-Type": "text/html"})
    if kind == "truncated-json":
        return httpx.Response(
            200, content=b'{"items": [{"id": "a"}, {"id"', headers={"Content-Type": "application/json"}
        )
    if kind == "broken-gzip":
        body = gzip.compress(b'{"items": []}')[:-8]  # cut inside the member
    else:  # too large: 5 KB of gzip unpacking past the 4 MB cap
        body = gzip.compress(b'{"items": ["' + b"x" * (MAX_REPLY_BYTES + 1) + b'"]}')
    return httpx.Response(200, stream=httpx.ByteStream(body), headers={"Content-Encoding": "gzip"})


KINDS = ["html-200", "truncated-json", "broken-gzip", "too-large"]
#: What each of them says: the reply could not be read, or was too large.
UNREADABLE = "could not read|larger than moodtape accepts"


@pytest.mark.parametrize("kind", KINDS)
def test_unreadable_replies_pause_a_service_like_5xx(make_api, clock, sleeps, kind) -> None:
    """Before: every request was sent, 10 calls for 10 requests; now 3, then nothing for the pause."""
    api = make_api(lambda request: _unreadable(kind))
    client = _client(api, clock, sleeps)
    for n in range(10):
        with pytest.raises(ProviderError, match=UNREADABLE):
            client.request("GET", URL, params={"q": f"q{n}"})
        clock.advance(1)
    assert len(api.requests) == TROUBLE_STRIKES  # not retried, so one call each
    clock.advance(TROUBLE_PAUSE)
    with pytest.raises(ProviderError):
        client.request("GET", URL, params={"q": "later"})
    assert len(api.requests) == TROUBLE_STRIKES + 1


@pytest.mark.parametrize("kind", KINDS)
def test_one_unreadable_reply_among_answers_pauses_no_one(make_api, clock, sleeps, kind) -> None:
    """The request that got it is held back for a while; every other request is still sent."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["q"] == "odd":
            return _unreadable(kind)
        return httpx.Response(200, json={"ok": True})

    api = make_api(handler)
    client = _client(api, clock, sleeps)
    assert client.request("GET", URL, params={"q": "first"}) == {"ok": True}
    with pytest.raises(ProviderError, match=UNREADABLE):
        client.request("GET", URL, params={"q": "odd"})
    with pytest.raises(ProviderError, match=UNREADABLE) as again:
        client.request("GET", URL, params={"q": "odd"})
    assert again.value.maybe_sent is False and len(api.requests) == 2  # held back, not sent
    for n in range(5):
        assert client.request("GET", URL, params={"q": f"other-{n}"}) == {"ok": True}
    assert len(api.requests) == 7


def test_youtube_behind_an_html_page_spends_three_searches_not_one_a_visitor(make_api, clock, sleeps) -> None:
    """A proxy or captive portal answering 200 with its own page: before, 10 visitors spent 10 of
    the day's searches (and sent 10 calls); now the service pauses after 3."""
    api = make_api(lambda request: _unreadable("html-200"))
    youtube = YouTubeProvider(
        "AIza-svc33-key", http=api.client(), clock=clock, sleep=sleeps, daily_search_budget=BUDGET, status_recheck=None
    )
    for n in range(10):
        with pytest.raises(ProviderError):
            youtube.videos(Query(targets=((0.5, 0.5),), keywords=(f"word{n}",), limit=5))
        clock.advance(1)
    assert len(api.requests) == TROUBLE_STRIKES
    assert youtube.searches_left() == BUDGET - TROUBLE_STRIKES
