"""SpotifyProvider against a faked Spotify: token flow, searches, paging and every error shape."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import httpx
import pytest

from moodtape.errors import ProviderAuthError, ProviderError, ProviderUnreachableError, QuotaExceededError
from moodtape.providers.base import Provider, Query
from moodtape.providers.spotify import PAGE_LIMIT, SpotifyProvider
from moodtape.providers.spotify_items import pick_image, playlist_from_spotify, track_from_spotify

CLIENT_ID = "test-client-id-0001"
SECRET = "test-client-secret-0002"
TOKEN = "test-access-token-0003"
CALM = Query(targets=((0.8, 0.2),) * 5, limit=5)


def track_item(n: int, **changes: object) -> dict[str, object]:
    """A search item shaped like Spotify's since February 2026 (no popularity, no external_ids)."""
    item: dict[str, object] = {
        "id": f"fixturetrack{n:010d}",
        "name": f"Song {n}",
        "uri": f"spotify:track:fixturetrack{n:010d}",
        "duration_ms": 200_000,
        "explicit": False,
        "artists": [{"id": "a1", "name": f"Artist {n}"}, {"id": "a2", "name": "Guest"}],
        "album": {
            "name": f"Album {n}",
            "images": [
                {"url": f"https://img.test/{n}/640", "width": 640, "height": 640},
                {"url": f"https://img.test/{n}/300", "width": 300, "height": 300},
                {"url": f"https://img.test/{n}/64", "width": 64, "height": 64},
            ],
        },
        "external_urls": {"spotify": f"https://open.spotify.com/track/fixturetrack{n:010d}"},
        "preview_url": None,
    }
    item.update(changes)
    return item


def playlist_item(n: int) -> dict[str, object]:
    return {
        "id": f"fixturelist{n:011d}",
        "name": f"Calm list {n}",
        "description": "quiet songs",
        "external_urls": {"spotify": f"https://open.spotify.com/playlist/fixturelist{n:011d}"},
        "images": [{"url": f"https://img.test/p{n}", "width": None, "height": None}],
        "owner": {"display_name": "someone"},
        "tracks": {"href": "https://api.spotify.com/v1/playlists/x/tracks", "total": 42},
    }


def search_page(offset: int, total: int = 100, base: int = 0) -> dict[str, object]:
    """A page of ``total`` results; ``base`` numbers the tracks so each query has its own."""
    count = max(0, min(PAGE_LIMIT, total - offset))
    has_next = offset + count < total
    return {
        "tracks": {
            "items": [track_item(base + offset + i) for i in range(count)],
            "limit": PAGE_LIMIT,
            "offset": offset,
            "total": total,
            "next": "https://api.spotify.com/v1/search?offset=next" if has_next else None,
        },
        "playlists": {"items": [playlist_item(1), None, playlist_item(2)]},
    }


class FakeSpotify:
    """Answers the token and search endpoints like Spotify; ``search``/``token`` can be swapped per test."""

    def __init__(self, total: int = 100) -> None:
        self.total = total
        self.tokens_issued = 0
        self.search_replies: list[httpx.Response] = []  # served first, in order, before normal pages
        self.token_reply: httpx.Response | None = None
        self.queries: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "accounts.spotify.com":
            if self.token_reply is not None:
                return self.token_reply
            self.tokens_issued += 1
            return httpx.Response(
                200, json={"access_token": f"{TOKEN}-{self.tokens_issued}", "token_type": "Bearer", "expires_in": 3600}
            )
        assert request.url.path == "/v1/search"
        if int(request.url.params["limit"]) > 10:
            return httpx.Response(400, json={"error": {"status": 400, "message": "Invalid limit"}})
        if self.search_replies:
            return self.search_replies.pop(0)
        q = request.url.params["q"]
        if q not in self.queries:
            self.queries.append(q)
        base = 1000 * self.queries.index(q)
        return httpx.Response(200, json=search_page(int(request.url.params["offset"]), self.total, base))


@pytest.fixture
def spotify(make_api, clock, sleeps):
    fake = FakeSpotify()
    api = make_api(fake)
    provider = SpotifyProvider(CLIENT_ID, SECRET, market="DE", http=api.client(), clock=clock, sleep=sleeps)
    return provider, fake, api


def searches(api) -> list[httpx.Request]:
    return [r for r in api.requests if r.url.path == "/v1/search"]


# --- token ---


def test_token_request_uses_basic_auth_and_client_credentials(spotify) -> None:
    provider, _, api = spotify
    provider.tracks(CALM)
    token_request = api.requests[0]
    assert token_request.method == "POST"
    assert str(token_request.url) == "https://accounts.spotify.com/api/token"
    expected = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert token_request.headers["Authorization"] == f"Basic {expected}"
    assert parse_qs(token_request.content.decode()) == {"grant_type": ["client_credentials"]}
    assert searches(api)[0].headers["Authorization"] == f"Bearer {TOKEN}-1"


def test_token_is_cached_until_shortly_before_expiry(spotify, clock) -> None:
    provider, fake, api = spotify
    provider.tracks(CALM)
    provider.tracks(Query(targets=((0.1, 0.9),), limit=5))
    assert fake.tokens_issued == 1
    clock.advance(3600 - 59)  # inside the 60 s margin: renewed before Spotify would refuse it
    provider.tracks(Query(targets=((0.5, 0.5),), limit=5))
    assert fake.tokens_issued == 2
    assert searches(api)[-1].headers["Authorization"] == f"Bearer {TOKEN}-2"


def test_401_on_search_fetches_a_new_token_once(spotify) -> None:
    provider, fake, api = spotify
    fake.search_replies = [httpx.Response(401, json={"error": {"status": 401, "message": "The access token expired"}})]
    tracks = provider.tracks(CALM)
    assert len(tracks) == 5
    assert fake.tokens_issued == 2
    assert [r.headers["Authorization"] for r in searches(api)] == [f"Bearer {TOKEN}-1", f"Bearer {TOKEN}-2"]


def test_401_twice_is_an_auth_error(spotify) -> None:
    provider, fake, _ = spotify
    fake.search_replies = [httpx.Response(401, json={})] * 2
    with pytest.raises(ProviderAuthError, match="SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET"):
        provider.tracks(CALM)
    assert fake.tokens_issued == 2


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(400, json={"error": "invalid_client", "error_description": "Invalid client"}),
        httpx.Response(400, json={"error": "invalid_client", "error_description": "Invalid client secret"}),
        httpx.Response(401, json={"error": "invalid_client"}),
    ],
)
def test_invalid_client_is_an_auth_error_naming_the_settings(spotify, reply) -> None:
    provider, fake, api = spotify
    fake.token_reply = reply
    with pytest.raises(ProviderAuthError, match="check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET") as info:
        provider.tracks(CALM)
    assert SECRET not in str(info.value) and CLIENT_ID not in str(info.value)
    assert searches(api) == []


@pytest.mark.parametrize("reply", [httpx.Response(200, json={"token_type": "Bearer"}), httpx.Response(200, json=["x"])])
def test_token_reply_in_wrong_shape(spotify, reply) -> None:
    provider, fake, _ = spotify
    fake.token_reply = reply
    with pytest.raises(ProviderError, match="unexpected shape"):
        provider.tracks(CALM)


# --- search requests ---


def test_search_sends_limit_at_most_10_and_pages_with_offset(spotify) -> None:
    provider, _, api = spotify
    tracks = provider.tracks(Query(targets=((0.8, 0.2),) * 20, limit=50))
    sent = searches(api)
    assert {r.url.params["limit"] for r in sent} == {"10"}
    assert [int(r.url.params["offset"]) for r in sent] == [0, 10, 20, 30, 40]
    assert len(tracks) == 50
    params = sent[0].url.params
    assert params["type"] == "track,playlist"
    assert params["market"] == "DE"
    assert params["q"] == "peaceful acoustic"


def test_max_pages_bounds_the_requests(make_api, clock, sleeps) -> None:
    api = make_api(FakeSpotify())
    provider = SpotifyProvider(CLIENT_ID, SECRET, http=api.client(), clock=clock, sleep=sleeps, max_pages=2)
    tracks = provider.tracks(Query(targets=((0.8, 0.2),), limit=200))
    assert len(searches(api)) == 2
    assert len(tracks) == 20


def test_paging_stops_when_spotify_has_no_next_page(make_api, clock, sleeps) -> None:
    api = make_api(FakeSpotify(total=13))
    provider = SpotifyProvider(CLIENT_ID, SECRET, http=api.client(), clock=clock, sleep=sleeps)
    tracks = provider.tracks(Query(targets=((0.8, 0.2),), limit=50))
    assert [int(r.url.params["offset"]) for r in searches(api)] == [0, 10]
    assert len(tracks) == 13


def test_invalid_limit_400_is_a_readable_provider_error(spotify) -> None:
    provider, fake, _ = spotify
    fake.search_replies = [httpx.Response(400, json={"error": {"status": 400, "message": "Invalid limit"}})]
    with pytest.raises(ProviderError, match=r"HTTP 400: Invalid limit") as info:
        provider.tracks(CALM)
    assert not isinstance(info.value, ProviderAuthError)


def test_a_path_across_moods_searches_each_region_with_its_own_target(spotify) -> None:
    provider, _, api = spotify
    uplift = Query(targets=((0.15, 0.2), (0.15, 0.25), (0.5, 0.5), (0.85, 0.8)), limit=12)
    tracks = provider.tracks(uplift)
    assert [r.url.params["q"] for r in searches(api)] == ["sad slow", "happy upbeat", "chill"]  # the ends first
    # Each track carries the mean target of the region its search was made for, and the regions
    # take turns, so even a short list holds the whole path.
    assert [(t.valence, t.energy) for t in tracks[:3]] == [
        pytest.approx((0.15, 0.225)),
        pytest.approx((0.5, 0.5)),
        pytest.approx((0.85, 0.8)),
    ]
    assert [t.spotify_id for t in tracks[:3]] == [
        "fixturetrack0000000000",
        "fixturetrack0000002000",
        "fixturetrack0000001000",
    ]
    assert all(t.estimated and t.source == "spotify" for t in tracks)


def test_genres_become_a_genre_filter_and_keywords_replace_mood_words(spotify) -> None:
    provider, _, api = spotify
    provider.tracks(Query(targets=((0.8, 0.2),), keywords=("rainy", "day"), genres=("jazz",), limit=5))
    assert searches(api)[0].url.params["q"] == 'rainy day genre:"jazz"'


def test_search_pages_are_cached(spotify) -> None:
    provider, _, api = spotify
    first = provider.tracks(CALM)
    count = len(api.requests)
    assert provider.tracks(CALM) == first
    assert len(api.requests) == count


def test_cache_expires_after_its_ttl(make_api, clock, sleeps) -> None:
    api = make_api(FakeSpotify())
    provider = SpotifyProvider(CLIENT_ID, SECRET, http=api.client(), clock=clock, sleep=sleeps, cache_ttl=100)
    provider.tracks(CALM)
    clock.advance(101)
    provider.tracks(CALM)
    assert len(searches(api)) == 2


# --- mapping ---


def test_tracks_map_to_track_values(spotify) -> None:
    provider, _, _ = spotify
    track = provider.tracks(CALM)[0]
    assert track.title == "Song 0"
    assert track.artist == "Artist 0, Guest"
    assert track.spotify_id == "fixturetrack0000000000"
    assert track.url == "https://open.spotify.com/track/fixturetrack0000000000"
    assert track.artwork_url == "https://img.test/0/300"
    assert track.preview_url is None
    assert (track.valence, track.energy) == pytest.approx((0.8, 0.2))
    assert track.extra == {"album": "Album 0", "explicit": "false"}


@pytest.mark.parametrize(
    "item",
    [
        None,
        "text",
        {},
        track_item(1, id=None),
        track_item(1, name=""),
        track_item(1, artists=[]),
        track_item(1, artists=None),
    ],
)
def test_unusable_items_are_skipped(item) -> None:
    assert track_from_spotify(item, (0.5, 0.5)) is None


def test_missing_optional_fields_are_tolerated() -> None:
    item = {"id": "fixtureminimal0000000", "name": "Bare", "artists": [{"name": "Someone"}]}
    track = track_from_spotify(item, (1.2, -0.1))
    assert track is not None
    assert track.artwork_url is None and track.preview_url is None
    assert track.url == "https://open.spotify.com/track/fixtureminimal0000000"
    assert track.extra == {}
    assert (track.valence, track.energy) == (1.0, 0.0)  # targets outside [0, 1] are clamped


def test_preview_url_is_kept_when_spotify_has_one() -> None:
    track = track_from_spotify(track_item(3, preview_url="https://p.scdn.test/x"), (0.5, 0.5))
    assert track is not None and track.preview_url == "https://p.scdn.test/x"


@pytest.mark.parametrize(
    ("images", "expected"),
    [
        ([{"url": "a", "width": 640}, {"url": "b", "width": 320}, {"url": "c", "width": 64}], "b"),
        ([{"url": "only", "width": None}], "only"),
        ([{"width": 300}], None),
        ([], None),
        (None, None),
    ],
)
def test_pick_image(images, expected) -> None:
    assert pick_image(images) == expected


def test_playlists_skip_null_entries_and_come_from_the_cache(spotify) -> None:
    provider, _, api = spotify
    provider.tracks(CALM)
    before = len(api.requests)
    playlists = provider.playlists(CALM)
    assert len(api.requests) == before  # served from the cached search pages
    assert [p.spotify_id for p in playlists] == ["fixturelist00000000001", "fixturelist00000000002"]
    assert playlists[0].track_count == 42
    assert playlists[0].image_url == "https://img.test/p1"
    assert playlists[0].owner == "someone"
    assert (playlists[0].valence, playlists[0].energy) == pytest.approx((0.8, 0.2))
    bare = playlist_from_spotify({"id": "fixturebare000000000000", "name": "Bare"}, (0.5, 0.5))
    assert bare is not None and bare.track_count is None and bare.url.endswith("/playlist/fixturebare000000000000")


def test_a_page_without_sections_gives_nothing(spotify) -> None:
    provider, fake, _ = spotify
    fake.search_replies = [httpx.Response(200, json={})]
    assert provider.tracks(CALM) == []


# --- errors ---


def test_403_premium_required_is_an_auth_error(spotify) -> None:
    provider, fake, _ = spotify
    fake.search_replies = [
        httpx.Response(
            403,
            json={
                "error": {"status": 403, "message": "Active premium subscription required for the owner of the app."}
            },
        )
    ]
    with pytest.raises(ProviderAuthError, match="Spotify requires the app owner to have Premium"):
        provider.tracks(CALM)


def test_other_403_quotes_spotify(spotify) -> None:
    provider, fake, _ = spotify
    fake.search_replies = [
        httpx.Response(
            403, json={"error": {"status": 403, "message": "User not registered in the Developer Dashboard"}}
        )
    ]
    with pytest.raises(ProviderAuthError, match="User not registered"):
        provider.tracks(CALM)


def test_429_waits_retry_after_then_succeeds(spotify, sleeps) -> None:
    provider, fake, _ = spotify
    fake.search_replies = [httpx.Response(429, headers={"Retry-After": "2"})]
    assert len(provider.tracks(CALM)) == 5
    assert sleeps == [2.0]


def test_429_with_long_retry_after_is_quota_error_without_waiting(spotify, sleeps) -> None:
    provider, fake, api = spotify
    fake.search_replies = [httpx.Response(429, headers={"Retry-After": "3600"})]
    with pytest.raises(QuotaExceededError, match="try again in about 1 h"):
        provider.tracks(CALM)
    assert sleeps == []
    assert len(searches(api)) == 1


def test_5xx_then_success(spotify, sleeps) -> None:
    provider, fake, _ = spotify
    fake.search_replies = [httpx.Response(502), httpx.Response(500)]
    assert len(provider.tracks(CALM)) == 5
    assert sleeps == [0.25, 0.5]


def test_5xx_exhausted(spotify) -> None:
    provider, fake, api = spotify
    fake.search_replies = [httpx.Response(503)] * 3
    with pytest.raises(ProviderError, match=r"Spotify is having trouble \(HTTP 503\)"):
        provider.tracks(CALM)
    assert len(searches(api)) == 3


@pytest.mark.parametrize(
    ("exception", "message"),
    [(httpx.ConnectTimeout, "did not answer in time"), (httpx.ConnectError, r"unreachable \(offline\?\)")],
)
def test_transport_failures_are_unreachable_and_pause_calls(make_api, clock, sleeps, exception, message) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exception("boom", request=request)

    api = make_api(handler)
    provider = SpotifyProvider(CLIENT_ID, SECRET, http=api.client(), clock=clock, sleep=sleeps)
    for _ in range(2):
        with pytest.raises(ProviderUnreachableError, match=message):
            provider.tracks(CALM)
    assert len(api.requests) == 1  # the second call did not wait for another timeout


@pytest.mark.parametrize("body", [b"<html>Bad gateway</html>", b'{"tracks": '])
def test_malformed_json(spotify, body) -> None:
    provider, fake, _ = spotify
    fake.search_replies = [httpx.Response(200, content=body)]
    with pytest.raises(ProviderError, match="could not read"):
        provider.tracks(CALM)


def test_a_search_reply_that_is_not_an_object(spotify) -> None:
    provider, fake, _ = spotify
    fake.search_replies = [httpx.Response(200, json=[1, 2])]
    with pytest.raises(ProviderError, match="unexpected shape"):
        provider.tracks(CALM)


def test_spotify_quoting_our_secret_back_is_scrubbed(spotify) -> None:
    provider, fake, _ = spotify
    fake.token_reply = httpx.Response(
        400, json={"error": "invalid_client", "error_description": f"Invalid client {SECRET}"}
    )
    with pytest.raises(ProviderAuthError) as info:
        provider.tracks(CALM)
    assert SECRET not in str(info.value)


# --- the rest of the interface ---


def test_protocol_repr_and_videos(spotify) -> None:
    provider, _, _ = spotify
    assert isinstance(provider, Provider)
    assert provider.name == "spotify"
    assert provider.videos(CALM) == []
    assert SECRET not in repr(provider) and CLIENT_ID not in repr(provider)


@pytest.mark.parametrize(("client_id", "secret"), [("", SECRET), (CLIENT_ID, "")])
def test_missing_credentials_are_refused(client_id, secret) -> None:
    with pytest.raises(ProviderAuthError, match="SPOTIFY_CLIENT_ID"):
        SpotifyProvider(client_id, secret, http=httpx.Client())


@pytest.mark.parametrize(
    ("token_reply", "search_reply"),
    [
        (httpx.Response(400, json={"error": "invalid_client", "error_description": f"{CLIENT_ID}:{SECRET}"}), None),
        (httpx.Response(403, json={"error": SECRET}), None),
        (httpx.Response(503, text=SECRET), None),
        (None, httpx.Response(403, json={"error": {"status": 403, "message": f"token {TOKEN}-1 refused"}})),
        (None, httpx.Response(400, json={"error": {"status": 400, "message": f"bad {TOKEN}-1"}})),
        (None, httpx.Response(200, content=f"{TOKEN}-1".encode())),
    ],
)
def test_credentials_and_token_never_show_in_errors_or_logs(make_api, clock, sleeps, caplog, token_reply, search_reply):
    fake = FakeSpotify()
    fake.token_reply = token_reply
    fake.search_replies = [search_reply] if search_reply is not None else []
    provider = SpotifyProvider(CLIENT_ID, SECRET, http=make_api(fake).client(), clock=clock, sleep=sleeps)
    caplog.set_level("DEBUG")
    with pytest.raises(ProviderError) as info:
        provider.tracks(CALM)
    for secret in (CLIENT_ID, SECRET, TOKEN):
        assert secret not in str(info.value) and secret not in repr(info.value)
        assert secret not in caplog.text
