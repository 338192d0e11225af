"""Services that fail: a trickling or bomb-sized reply, a long rate limit, refused credentials.

The reply-shape tests talk to a real HTTP server on a local port (the clients' own transport, real
sockets and httpx's own timeouts), because the faults live where a mock transport cannot reach: a
body that arrives a byte at a time, a small gzip body that unpacks to many megabytes. The others use
the shared mock transport and a fake clock, as the other provider tests do.
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from moodtape.errors import ProviderAuthError, ProviderError, ProviderUnreachableError, QuotaExceededError
from moodtape.providers.base import Query
from moodtape.providers.http import RetryPolicy, ServiceClient, request_json
from moodtape.providers.spotify import SpotifyProvider
from moodtape.providers.youtube import YouTubeProvider

QUERY = Query(targets=((0.3, 0.3),), limit=5)
SECRET = "prov29-client-secret"
API_KEY = "AIza-prov29-key"
#: 40 MB of spaces: about 40 KB once gzipped, ten times the 4 MB cap once unpacked.
BOMB = gzip.compress(b" " * (40 * 1024 * 1024), 9)


class _Faulty(BaseHTTPRequestHandler):
    """Answers by the path: /trickle sends a valid JSON body a byte every 0.1 s; /bomb sends BOMB;
    /slowheaders sends its status line and headers a byte every 0.1 s; /stall sends a body byte
    every 0.9 s; /rawdeflate a body deflated without the zlib header; /echo the Accept-Encoding it got."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/trickle":
            body = b'{"items": []}' + b" " * 40
            self._head(len(body))
            try:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:  # the client gave up: what the test wants
                pass
        elif self.path == "/slowheaders":
            self._trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 0.1)
        elif self.path == "/stall":
            body = b'{"items": []}'
            self._head(len(body))
            self._trickle(body, 0.9)
        elif self.path == "/rawdeflate":
            packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
            body = packer.compress(json.dumps({"items": [3]}).encode()) + packer.flush()
            self._head(len(body), ("Content-Encoding", "deflate"))
            self.wfile.write(body)
        elif self.path == "/echo":
            body = json.dumps({"accept_encoding": self.headers.get("Accept-Encoding")}).encode()
            self._head(len(body))
            self.wfile.write(body)
        elif self.path == "/bomb":
            self._head(len(BOMB), ("Content-Encoding", "gzip"))
            self.wfile.write(BOMB)
        else:
            body = gzip.compress(json.dumps({"items": [1, 2]}).encode())
            self._head(len(body), ("Content-Encoding", "gzip"))
            self.wfile.write(body)

    def _trickle(self, data: bytes, gap: float) -> None:
        try:
            for byte in data:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(gap)
        except OSError:  # the client gave up: what the test wants
            pass

    def _head(self, length: int, *extra: tuple[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()


@pytest.fixture
def faulty_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Faulty)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


ONE_TRY = RetryPolicy(attempts=1)


def test_a_reply_trickling_past_the_timeout_ends_at_the_timeout(faulty_server: str) -> None:
    """Each byte comes within httpx's read timeout, so only a deadline on the whole reply ends it
    (before: the 5.3 s trickle was waited out in full, and a 100 KB one at 2 bytes a second held a
    worker for 14 hours)."""
    started = time.monotonic()
    with httpx.Client() as client, pytest.raises(ProviderUnreachableError, match="did not answer in time"):
        request_json(client, "GET", f"{faulty_server}/trickle", service="Example", timeout=0.5, retry=ONE_TRY)
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("kept_alive", [False, True])
@pytest.mark.parametrize("path", ["/slowheaders", "/stall"])
def test_the_whole_exchange_ends_at_the_timeout_headers_included(faulty_server: str, path: str, kept_alive) -> None:
    """Before: headers trickling a byte every 0.1 s under a 1 s timeout took 7.1 s (httpx's timeout
    bounds each read, and the deadline was checked only between body chunks); body bytes every
    0.9 s took 1.8 s. ``kept_alive``: on a connection an earlier answer left open (no new
    connection, so no connect event to learn its socket from)."""
    with httpx.Client() as client:
        if kept_alive:
            request_json(client, "GET", f"{faulty_server}/plain", service="Example", timeout=1.0, retry=ONE_TRY)
        started = time.monotonic()
        with pytest.raises(ProviderUnreachableError, match="did not answer in time"):
            request_json(client, "GET", f"{faulty_server}{path}", service="Example", timeout=1.0, retry=ONE_TRY)
        assert time.monotonic() - started < 1.4


def test_only_encodings_moodtape_reads_are_asked_for(faulty_server: str) -> None:
    """httpx offers br and zstd whenever brotli or zstandard are importable; such replies failed."""
    with httpx.Client(headers={"Accept-Encoding": "gzip, deflate, br, zstd"}) as client:
        answer = request_json(client, "GET", f"{faulty_server}/echo", service="Example", timeout=5)
    assert answer == {"accept_encoding": "gzip, deflate"}


def test_a_raw_deflate_reply_reads(faulty_server: str) -> None:
    """Before: "deflate" without the zlib header was refused as broken."""
    with httpx.Client() as client:
        assert request_json(client, "GET", f"{faulty_server}/rawdeflate", service="Example", timeout=5) == {
            "items": [3]
        }


def test_a_gzip_bomb_stops_at_the_cap_without_unpacking_it(faulty_server: str) -> None:
    """Before: httpx unpacked all 40 MB (and the JSON decoder then failed on it)."""
    with httpx.Client() as client, pytest.raises(ProviderError, match="larger than moodtape accepts"):
        request_json(client, "GET", f"{faulty_server}/bomb", service="Example", timeout=5, retry=ONE_TRY)


def test_an_ordinary_gzip_reply_still_reads(faulty_server: str) -> None:
    with httpx.Client() as client:
        assert request_json(client, "GET", f"{faulty_server}/plain", service="Example", timeout=5) == {"items": [1, 2]}


# --- Spotify: a long rate limit, refused credentials ---


def _spotify(make_api, clock, sleeps, search: httpx.Response, token: httpx.Response | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token":
            return token or httpx.Response(200, json={"access_token": "tok", "expires_in": 3600})
        return search

    api = make_api(handler)
    provider = SpotifyProvider("prov29-id", SECRET, http=api.client(), clock=clock, sleep=sleeps, cache_ttl=0)
    return provider, api


def test_a_day_long_retry_after_stops_spotify_calls_and_says_so_in_hours(make_api, clock, sleeps) -> None:
    """Before: every later request searched again (one call each) and the note said "86400 s"."""
    provider, api = _spotify(make_api, clock, sleeps, httpx.Response(429, headers={"Retry-After": "86400"}))
    with pytest.raises(QuotaExceededError, match="try again in about 1 h"):  # the pause is capped at an hour
        provider.tracks(QUERY)
    sent = len(api.requests)
    for _ in range(3):
        with pytest.raises(QuotaExceededError, match="Spotify is limiting") as paused:
            provider.tracks(QUERY)
        assert paused.value.retry_after == 3600  # a 429 while paused, not a 503 with no Retry-After
    assert len(api.requests) == sent
    clock.advance(3601)  # a pause is capped at an hour, whatever the header says
    with pytest.raises(QuotaExceededError):
        provider.tracks(QUERY)
    assert api.paths()[sent:] == ["/api/token", "/v1/search"]  # the token had expired meanwhile


def test_a_failing_spotify_is_paused_after_its_retries(make_api, clock, sleeps) -> None:
    """A 503 from a CDN, after every retry: the next visitors are not each sent three more calls."""
    provider, api = _spotify(make_api, clock, sleeps, httpx.Response(503, text="<html>Service Unavailable</html>"))
    with pytest.raises(ProviderError, match=r"Spotify is having trouble \(HTTP 503\)"):
        provider.tracks(QUERY)
    sent = len(api.requests)
    with pytest.raises(ProviderError, match="Spotify is having trouble"):
        provider.tracks(QUERY)
    assert len(api.requests) == sent
    clock.advance(31)
    with pytest.raises(ProviderError):
        provider.tracks(QUERY)
    assert len(api.requests) > sent


def test_refused_credentials_are_asked_once_and_logged_once_without_the_secret(make_api, clock, sleeps, caplog) -> None:
    refused = httpx.Response(400, json={"error": "invalid_client", "error_description": "Invalid client"})
    provider, api = _spotify(make_api, clock, sleeps, httpx.Response(200, json={}), token=refused)
    caplog.set_level(logging.WARNING, logger="moodtape")
    for _ in range(3):
        with pytest.raises(ProviderError, match="Spotify is not available here"):
            provider.tracks(QUERY)  # visitors read no setting's name (session 30)
    assert len(api.requests) == 1
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("moodtape")]
    assert len(lines) == 1 and "Spotify rejected the app's credentials" in lines[0]
    assert "SPOTIFY_CLIENT_SECRET" in lines[0]  # the operator does
    assert SECRET not in caplog.text


def test_a_token_refused_twice_pauses_spotify_and_is_logged_once(make_api, clock, sleeps, caplog) -> None:
    """Before: both 401s carried no pause, so every visitor sent a token call and two searches,
    and nothing was logged."""
    provider, api = _spotify(
        make_api, clock, sleeps, httpx.Response(401, json={"error": {"status": 401, "message": "Invalid access token"}})
    )
    caplog.set_level(logging.WARNING, logger="moodtape")
    for _ in range(3):
        with pytest.raises(ProviderAuthError, match="not available here"):
            provider.tracks(QUERY)
    assert api.paths() == ["/api/token", "/v1/search", "/api/token", "/v1/search"]
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("moodtape")]
    assert len(lines) == 1 and "keeps refusing" in lines[0]


def test_an_expired_token_is_renewed_once_without_a_warning_or_a_pause(make_api, clock, sleeps, caplog) -> None:
    tokens = iter(["old", "new"])
    searches: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token":
            return httpx.Response(200, json={"access_token": next(tokens), "expires_in": 3600})
        searches.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer old":
            return httpx.Response(401, json={"error": {"status": 401, "message": "The access token expired"}})
        return httpx.Response(200, json={"tracks": {"items": [], "next": None}})

    api = make_api(handler)
    provider = SpotifyProvider("prov29-id", SECRET, http=api.client(), clock=clock, sleep=sleeps, cache_ttl=0)
    caplog.set_level(logging.WARNING, logger="moodtape")
    assert provider.tracks(QUERY) == []
    assert provider.tracks(QUERY) == []
    assert searches == ["Bearer old", "Bearer new", "Bearer new"]
    assert not [r for r in caplog.records if r.name.startswith("moodtape")]


# --- YouTube: a refused key spends nothing ---


def _youtube(make_api, clock, sleeps, reply: httpx.Response):
    api = make_api(lambda request: reply)
    provider = YouTubeProvider(API_KEY, http=api.client(), clock=clock, sleep=sleeps, daily_search_budget=5)
    return provider, api


def _refusal(status: int, reason: str, message: str) -> httpx.Response:
    body = {
        "error": {"code": status, "message": message, "errors": [{"reason": reason}], "details": [{"reason": reason}]}
    }
    return httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (_refusal(400, "API_KEY_INVALID", "API key not valid. Please pass a valid API key."), "not valid"),
        (_refusal(403, "accessNotConfigured", "YouTube Data API v3 has not been used in project 1"), "not enabled"),
        (_refusal(403, "API_KEY_HTTP_REFERRER_BLOCKED", "Requests from referer <empty> are blocked."), "restrictions"),
    ],
)
def test_a_refused_youtube_key_spends_no_search_and_is_not_asked_again(
    make_api, clock, sleeps, caplog, reply, said
) -> None:
    """Before: each visitor spent a search from the day's budget on the wrong key (5 visitors, 5
    of 5), so after the key was mended YouTube stayed shut until midnight Pacific."""
    provider, api = _youtube(make_api, clock, sleeps, reply)
    caplog.set_level(logging.WARNING, logger="moodtape")
    for _ in range(5):
        with pytest.raises(ProviderError, match="YouTube is not available here"):
            provider.videos(QUERY)
    assert provider.searches_left() == 5
    assert len(api.requests) == 1
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("moodtape")]
    assert len(lines) == 1 and said in lines[0]  # the operator's detail, in the log only (session 30)
    assert API_KEY not in caplog.text
    clock.advance(301)  # the operator may have mended the key in the console meanwhile
    with pytest.raises(ProviderAuthError):
        provider.videos(QUERY)
    assert len(api.requests) == 2


def test_a_paused_rate_limit_keeps_what_the_other_fetches_found(make_api, clock, sleeps) -> None:
    """Before: while paused, the rate limit came back as ProviderUnreachableError, which ended the
    whole call, so the cached comedy videos were lost along with the rate-limited search."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("q") == "stand-up comedy" and not limited:
            return httpx.Response(200, json={"items": [{"id": {"videoId": "abcdefghijk"}, "snippet": {"title": "c"}}]})
        return _refusal(403, "rateLimitExceeded", "rate")

    limited = False
    api = make_api(handler)
    provider = YouTubeProvider(API_KEY, http=api.client(), clock=clock, sleep=sleeps, daily_search_budget=5)
    assert len(provider.videos(Query(targets=((0.5, 0.5),), limit=10, keywords=("comedy",)))) == 1
    limited = True
    both = Query(targets=((0.5, 0.5),), limit=10, keywords=("nature", "comedy"))
    for _ in range(2):  # the first visitor trips the pause, the second meets it
        assert [v.youtube_id for v in provider.videos(both)] == ["abcdefghijk"]
    assert provider.searches_left() == 3  # the paused search reserved nothing


def test_a_pause_is_raised_as_the_error_that_caused_it() -> None:
    client = ServiceClient(httpx.Client(), "Example", timeout=1, clock=lambda: 100.0)
    client.breaker.trip("Example is limiting how often moodtape may ask.", 60, QuotaExceededError)
    with pytest.raises(QuotaExceededError) as raised:
        client.request("GET", "http://127.0.0.1:9/")
    assert raised.value.retry_after == 60


def test_a_pause_started_after_the_search_was_reserved_gives_the_search_back(make_api, clock, sleeps) -> None:
    """Before: another visitor's 429 starting a pause between this search's reserve and its call
    raised from the pause with no request sent, yet the search stayed counted (5 -> 4)."""
    provider, api = _youtube(make_api, clock, sleeps, httpx.Response(200, json={"items": []}))
    reserve = provider._budget.reserve

    def reserve_then_another_visitor_is_rate_limited(day: str, budget: int) -> bool:
        reserved = reserve(day, budget)
        provider._client.breaker.trip("YouTube is limiting how often moodtape may ask.", 60, QuotaExceededError)
        return reserved

    provider._budget.reserve = reserve_then_another_visitor_is_rate_limited  # type: ignore[method-assign]
    before = provider.searches_left()
    with pytest.raises(QuotaExceededError):
        provider.videos(QUERY)
    assert api.requests == []
    assert provider.searches_left() == before


def test_a_bare_youtube_403_keeps_its_search_counted(make_api, clock, sleeps) -> None:
    """Only the refusals Google documents as uncounted give the search back; a bare 403 may have
    been counted, and giving it back could overspend the budget."""
    provider, api = _youtube(make_api, clock, sleeps, _refusal(403, "forbidden", "The request is not authorized."))
    for _ in range(3):
        with pytest.raises(ProviderAuthError, match="YouTube refused access"):
            provider.videos(QUERY)
    assert len(api.requests) == 1
    assert provider.searches_left() == 4
