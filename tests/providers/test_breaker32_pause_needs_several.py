"""One visitor's failing request pauses no one: a 5xx pauses a service only after several in a row.

Before, a single request that met a 5xx after its retries paused the service for 30 s for every
visitor of the process: good, bad, good, good sent 1 + 3 + 0 + 0 calls, and both later good queries
failed at once with "YouTube is having trouble (HTTP 500)". Refused credentials, 429s and
unreachable hosts still pause at once. Fake transport, fake clock, no sleeping.
"""

from __future__ import annotations

import httpx
import pytest
from tests.providers.flaky_service import URL, server_bug, youtube_client

from moodtape.errors import ProviderAuthError, ProviderError, ProviderUnreachableError, QuotaExceededError
from moodtape.providers.base import Query
from moodtape.providers.http import (
    AUTH_PAUSE,
    TROUBLE_PAUSE,
    TROUBLE_STRIKES,
    RetryPolicy,
    ServiceClient,
    paused,
)
from moodtape.providers.spotify import SpotifyProvider

ATTEMPTS = RetryPolicy().attempts


def _client(api, clock, sleeps) -> ServiceClient:
    return youtube_client(api.client(), clock, sleeps)


def _ask(client: ServiceClient, api, query: str) -> tuple[int, object]:
    """(calls sent, the answer or the error) for one search of ``query``."""
    before = len(api.requests)
    try:
        outcome: object = client.request("GET", URL, params={"q": query})
    except ProviderError as error:
        outcome = error
    return len(api.requests) - before, outcome


def test_one_visitors_failing_query_leaves_the_others_served(make_api, clock, sleeps) -> None:
    api = make_api(server_bug)
    client = _client(api, clock, sleeps)
    sent = []
    for query in ("good", "bad", "good", "good-too"):
        calls, outcome = _ask(client, api, query)
        sent.append(calls)
        if query == "bad":
            assert isinstance(outcome, ProviderError)
            assert str(outcome) == "YouTube is having trouble (HTTP 500); try again in a few minutes."
        else:
            assert outcome == {"ok": True}, outcome
        clock.advance(1)
    assert sent == [1, ATTEMPTS, 1, 1]  # before: [1, 3, 0, 0], the goods failing with the bad one's error


def test_the_same_failing_request_is_not_sent_again_for_a_while_and_counts_once(make_api, clock, sleeps) -> None:
    """A visitor reloading the query that upsets the service sends no calls and pauses no one."""
    api = make_api(server_bug)
    client = _client(api, clock, sleeps)
    assert _ask(client, api, "bad")[0] == ATTEMPTS
    for _ in range(TROUBLE_STRIKES + 1):
        clock.advance(2)
        calls, error = _ask(client, api, "bad")
        assert calls == 0
        assert isinstance(error, ProviderError) and "having trouble (HTTP 500)" in str(error)
        assert error.maybe_sent is False and error.retry_after == TROUBLE_PAUSE - 2 * (_ + 1)
    assert _ask(client, api, "good") == (1, {"ok": True})
    clock.advance(TROUBLE_PAUSE)
    assert _ask(client, api, "bad")[0] == ATTEMPTS  # its own wait is over: asked again


def test_several_different_failures_in_a_row_pause_the_service(make_api, clock, sleeps) -> None:
    api = make_api(server_bug)
    client = _client(api, clock, sleeps)
    for n in range(TROUBLE_STRIKES):
        assert _ask(client, api, f"bad-{n}")[0] == ATTEMPTS
        clock.advance(1)
    calls, error = _ask(client, api, "good")  # the service is paused now, for everyone
    assert calls == 0
    assert isinstance(error, ProviderError) and "YouTube is having trouble (HTTP 500)" in str(error)
    assert error.retry_after == TROUBLE_PAUSE - 1
    clock.advance(TROUBLE_PAUSE)
    assert _ask(client, api, "good") == (1, {"ok": True})


def test_a_service_failing_more_often_than_it_answers_pauses(make_api, clock, sleeps) -> None:
    """Two failing searches for each good one: the service pauses at the third failure. Before
    session 32, any answer emptied the count: 10 rounds sent 70 calls and never paused."""
    api = make_api(server_bug)
    client = _client(api, clock, sleeps)
    sent, goods_refused = [], 0
    for n in range(10):
        for query in (f"bad-{n}-a", f"bad-{n}-b", f"good-{n}"):
            calls, outcome = _ask(client, api, query)
            sent.append(calls)
            goods_refused += query.startswith("good") and isinstance(outcome, ProviderError)
            clock.advance(1)
    # bad, bad, good, bad: three failed of four (at least half), paused for the 26 requests left
    assert sent[:4] == [ATTEMPTS, ATTEMPTS, 1, ATTEMPTS]
    assert sum(sent[4:]) == 0 and goods_refused == 9
    assert len(api.requests) == 3 * ATTEMPTS + 1  # 10, not 70


def test_failures_further_apart_than_the_window_do_not_pause(make_api, clock, sleeps) -> None:
    api = make_api(server_bug)
    client = _client(api, clock, sleeps)
    for n in range(TROUBLE_STRIKES * 2):
        assert _ask(client, api, f"bad-{n}")[0] == ATTEMPTS
        clock.advance(TROUBLE_PAUSE / 2 + 1)  # at most one earlier failure within the window
    assert _ask(client, api, "good") == (1, {"ok": True})


def test_a_dead_api_is_spared_after_the_threshold(make_api, clock, sleeps) -> None:
    """Every request a 500: calls stop after TROUBLE_STRIKES requests, for the pause."""
    api = make_api(lambda request: httpx.Response(500))
    client = _client(api, clock, sleeps)
    sent = []
    for n in range(10):
        sent.append(_ask(client, api, f"q{n}")[0])
        clock.advance(1)
    assert sent == [ATTEMPTS] * TROUBLE_STRIKES + [0] * (10 - TROUBLE_STRIKES)
    assert len(api.requests) == TROUBLE_STRIKES * ATTEMPTS  # 9, not 30


def _refused_key(response: httpx.Response) -> ProviderError | None:
    if response.status_code == 403:
        return paused(ProviderAuthError("YouTube refused access (HTTP 403: forbidden)."), AUTH_PAUSE)
    return None


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (httpx.Response(429), QuotaExceededError),
        (httpx.Response(403), ProviderAuthError),
        (None, ProviderUnreachableError),
    ],
    ids=["429", "refused-key", "unreachable"],
)
def test_other_failures_still_pause_at_once(make_api, clock, sleeps, reply, kind) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if reply is None:
            raise httpx.ConnectError("no route", request=request)
        return reply

    api = make_api(handler)
    client = _client(api, clock, sleeps)
    with pytest.raises(kind):
        client.request("GET", URL, params={"q": "first"}, on_error=_refused_key)
    sent = len(api.requests)
    with pytest.raises(kind) as second:
        client.request("GET", URL, params={"q": "another"}, on_error=_refused_key)
    assert len(api.requests) == sent and second.value.maybe_sent is False


def test_spotify_serves_other_searches_after_one_search_met_a_500(make_api, clock, sleeps) -> None:
    """Through the provider: a search whose words upset Spotify fails alone; the next search is sent."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 3600})
        return httpx.Response(500) if "glitch" in request.url.params.get("q", "") else httpx.Response(200, json={})

    api = make_api(handler)
    provider = SpotifyProvider("b32-id", "b32-secret", http=api.client(), clock=clock, sleep=sleeps, cache_ttl=0)
    with pytest.raises(ProviderError, match=r"Spotify is having trouble \(HTTP 500\)"):
        provider.tracks(Query(targets=((0.3, 0.3),), keywords=("glitch",), limit=5))
    before = len(api.requests)
    assert provider.tracks(Query(targets=((0.7, 0.7),), keywords=("sunny",), limit=5)) == []
    assert len(api.requests) > before


def _met_a_500(make_api, clock, sleeps) -> ProviderError:
    """The error a real request that met a 500 after its retries raises."""
    api = make_api(lambda request: httpx.Response(500))
    with pytest.raises(ProviderError) as raised:
        _client(api, clock, sleeps).request("GET", URL, params={"q": "any"})
    return raised.value


def test_a_5xx_failed_with_no_request_named_pauses_at_once(make_api, clock, sleeps) -> None:
    """``fail(error)`` with no digest: nothing to hold back but the service. Before, every such error
    shared the key "", so they never made 3 different requests and never paused anything."""
    error = _met_a_500(make_api, clock, sleeps)
    api = make_api(server_bug)
    client = _client(api, clock, sleeps)
    client.fail(error)
    calls, refused = _ask(client, api, "good")
    assert calls == 0 and isinstance(refused, ProviderError) and refused.maybe_sent is False
    assert refused.retry_after == TROUBLE_PAUSE


def test_the_copy_fail_makes_to_scrub_a_secret_keeps_the_mark(make_api, clock, sleeps) -> None:
    """Scrubbing a secret builds a new error; it must still count toward the pause, not pause at once."""
    error = _met_a_500(make_api, clock, sleeps)
    error.add_note("sent with key b32-secret-key")
    api = make_api(server_bug)
    client = ServiceClient(
        api.client(), "YouTube", timeout=5, sleep=sleeps, clock=clock, secrets=lambda: ("b32-secret-key",)
    )
    scrubbed = client.fail(error, "digest-1")
    assert scrubbed is not error and "b32-secret-key" not in repr(scrubbed.__notes__)
    assert scrubbed.counts_toward_pause is True and scrubbed.retry_after == error.retry_after
    client.fail(scrubbed, "digest-2")  # the provider fails it once more, for another request
    assert _ask(client, api, "good") == (1, {"ok": True})  # two strikes: no pause yet
