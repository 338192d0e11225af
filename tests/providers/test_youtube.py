"""YouTubeProvider against a faked Data API v3: searches, charts, budget, cache and every error shape."""

from __future__ import annotations

import contextlib
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from moodtape.errors import ProviderAuthError, ProviderError, ProviderUnreachableError, QuotaExceededError
from moodtape.providers.base import Provider, Query
from moodtape.providers.budget import FileBudgetStore, MemoryBudgetStore, quota_day
from moodtape.providers.youtube import MOOD_VIDEOS, YouTubeProvider, default_mood_category
from moodtape.providers.youtube_replies import video_from_youtube

API_KEY = "AIzaFAKE-test-key-0123456789"
CALM = Query(targets=((0.5, 0.2),) * 3, limit=10)  # calm music + nature videos
PARTY = Query(targets=((0.9, 0.9),) * 3, limit=10)  # upbeat: a chart + comedy


def video_id(n: int) -> str:
    return f"fixture{n:04d}"  # 11 characters, like a YouTube ID


def search_item(n: int, title: str | None = None) -> dict[str, object]:
    return {
        "kind": "youtube#searchResult",
        "id": {"kind": "youtube#video", "videoId": video_id(n)},
        "snippet": {
            "title": title or f"Video {n}",
            "channelTitle": f"Channel {n}",
            "publishedAt": "2020-01-01T00:00:00Z",
            "thumbnails": {
                "default": {"url": f"https://i.ytimg.test/{n}/default.jpg", "width": 120, "height": 90},
                "medium": {"url": f"https://i.ytimg.test/{n}/mqdefault.jpg", "width": 320, "height": 180},
                "high": {"url": f"https://i.ytimg.test/{n}/hqdefault.jpg", "width": 480, "height": 360},
            },
        },
    }


def chart_item(n: int, embeddable: bool = True) -> dict[str, object]:
    item = search_item(n)
    item["kind"] = "youtube#video"
    item["id"] = video_id(n)
    item["status"] = {"embeddable": embeddable, "privacyStatus": "public"}
    return item


def google_error(code: int, reason: str, message: str, details_reason: str | None = None) -> httpx.Response:
    error: dict[str, object] = {
        "code": code,
        "message": message,
        "errors": [{"message": message, "domain": "youtube.quota" if "uota" in reason else "global", "reason": reason}],
    }
    if details_reason:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": details_reason}]
    return httpx.Response(code, json={"error": error})


class FakeYouTube:
    """search.list gives items numbered from 100 per distinct query; videos.list gives a chart."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.replies: list[httpx.Response] = []  # served first, in order

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.replies:
            return self.replies.pop(0)
        if request.url.path == "/youtube/v3/search":
            q = request.url.params["q"]
            if q not in self.queries:
                self.queries.append(q)
            base = 100 * (self.queries.index(q) + 1)
            return httpx.Response(200, json={"items": [search_item(base + i) for i in range(5)]})
        assert request.url.path == "/youtube/v3/videos"
        return httpx.Response(200, json={"items": [chart_item(1), chart_item(2, embeddable=False), chart_item(3)]})


@pytest.fixture
def youtube(make_api, clock, sleeps):
    fake = FakeYouTube()
    api = make_api(fake)
    provider = YouTubeProvider(
        API_KEY, region="GB", http=api.client(), clock=clock, sleep=sleeps, daily_search_budget=5
    )
    return provider, fake, api


def search_requests(api) -> list[httpx.Request]:
    return [r for r in api.requests if r.url.path.endswith("/search")]


# --- requests ---


def test_music_search_sends_the_documented_parameters_and_the_key_in_a_header(youtube) -> None:
    provider, _, api = youtube
    provider.videos(CALM)
    music = next(r for r in search_requests(api) if "videoCategoryId" in r.url.params)
    params = dict(music.url.params)
    assert params == {
        "part": "snippet",
        "q": "calm ambient music",
        "type": "video",
        "videoEmbeddable": "true",
        "safeSearch": "moderate",
        "regionCode": "GB",
        "maxResults": "50",
        "videoCategoryId": "10",
    }
    for request in api.requests:
        assert request.headers["X-Goog-Api-Key"] == API_KEY
        assert API_KEY not in str(request.url)


def test_calm_query_gives_music_and_nature_videos_interleaved(youtube) -> None:
    provider, fake, api = youtube
    videos = provider.videos(CALM)
    assert fake.queries == ["calm ambient music", MOOD_VIDEOS["nature"]]
    assert [v.category for v in videos[:4]] == ["music", "nature", "music", "nature"]
    assert len(videos) == 10
    nature = search_requests(api)[1]
    assert "videoCategoryId" not in nature.url.params


def test_mood_video_search_has_no_music_category(youtube) -> None:
    provider, _, api = youtube
    provider.videos(Query(targets=((0.2, 0.2),), keywords=("comedy",), limit=5))
    (request,) = search_requests(api)
    assert request.url.params["q"] == "stand-up comedy"
    assert "videoCategoryId" not in request.url.params


def test_keywords_music_and_a_category_ask_for_both(youtube) -> None:
    provider, fake, _ = youtube
    videos = provider.videos(Query(targets=((0.5, 0.5),), keywords=("music", "breathing", "lofi"), limit=10))
    assert fake.queries == ["lofi music", MOOD_VIDEOS["breathing"]]
    assert {v.category for v in videos} == {"music", "breathing"}


def test_upbeat_music_uses_the_one_unit_chart_and_no_search_budget(youtube) -> None:
    provider, _, api = youtube
    videos = provider.videos(PARTY)
    chart = [r for r in api.requests if r.url.path.endswith("/videos")]
    assert len(chart) == 1
    assert dict(chart[0].url.params) == {
        "part": "snippet,status",
        "chart": "mostPopular",
        "videoCategoryId": "10",
        "regionCode": "GB",
        "maxResults": "50",
    }
    music = [v for v in videos if v.category == "music"]
    assert [v.youtube_id for v in music] == [video_id(1), video_id(3)]  # not embeddable: skipped
    assert provider.searches_left() == 4  # only the comedy search counted


def test_genres_turn_upbeat_music_into_a_search(youtube) -> None:
    provider, fake, api = youtube
    provider.videos(Query(targets=((0.9, 0.9),), genres=("k-pop",), limit=5))
    assert fake.queries[0] == "happy upbeat k-pop music"
    assert not [r for r in api.requests if r.url.path.endswith("/videos")]


# --- mapping ---


def test_titles_and_channels_are_unescaped_and_mapped() -> None:
    item = search_item(7, title="Don&#39;t Stop Me Now &amp; more &quot;live&quot;")
    item["snippet"]["channelTitle"] = "Rock &amp; Roll"  # type: ignore[index]
    video = video_from_youtube(item, (0.7, 0.8), "music")
    assert video is not None
    assert video.title == 'Don\'t Stop Me Now & more "live"'
    assert video.channel == "Rock & Roll"
    assert video.url == f"https://www.youtube.com/watch?v={video_id(7)}"
    assert video.thumbnail_url == "https://i.ytimg.test/7/mqdefault.jpg"
    assert (video.valence, video.energy, video.estimated, video.source) == (0.7, 0.8, True, "youtube")


def test_thumbnail_falls_back_to_high_then_default() -> None:
    item = search_item(8)
    del item["snippet"]["thumbnails"]["medium"]  # type: ignore[index]
    assert video_from_youtube(item, (0.5, 0.5), "music").thumbnail_url.endswith("hqdefault.jpg")  # type: ignore[union-attr]
    item["snippet"]["thumbnails"] = {}  # type: ignore[index]
    assert video_from_youtube(item, (0.5, 0.5), "music").thumbnail_url is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "item",
    [
        None,
        {"id": {"kind": "youtube#channel", "channelId": "UCxyz"}, "snippet": {"title": "A channel"}},
        {"id": {"videoId": "short"}, "snippet": {"title": "Bad id"}},
        {"id": {"videoId": "fixture0001"}},
        {"id": {"videoId": "fixture0001"}, "snippet": {"title": "   "}},
        chart_item(4, embeddable=False),
    ],
)
def test_unusable_items_are_skipped(item) -> None:
    assert video_from_youtube(item, (0.5, 0.5), "music") is None


@pytest.mark.parametrize(
    ("targets", "category"),
    [
        (((0.1, 0.9), (0.5, 0.2)), "breathing"),  # angry, being calmed
        (((0.2, 0.2), (0.2, 0.2)), "nature"),  # sad, matched
        (((0.2, 0.2), (0.5, 0.9)), "motivation"),  # energize
        (((0.2, 0.2), (0.8, 0.6)), "comedy"),  # uplift
        (((0.9, 0.9),), "comedy"),  # happy
    ],
)
def test_default_mood_category(targets, category) -> None:
    assert default_mood_category(targets) == category


# --- cache and budget ---


def test_searches_are_cached_for_a_day(youtube, clock) -> None:
    provider, _, api = youtube
    # Counts search calls only: the status re-checks after 6 h (their own videos.list calls) are
    # tested in test_prov32_youtube_gone.py.
    provider.status_recheck = None
    first = provider.videos(CALM)
    provider.videos(CALM)
    assert len(api.requests) == 2
    assert provider.searches_left() == 3
    clock.advance(23 * 3600)
    assert provider.videos(CALM) == first
    assert len(api.requests) == 2
    clock.advance(3600)
    provider.videos(CALM)
    assert len(api.requests) == 4


def test_chart_is_cached_for_the_shorter_ttl(youtube, clock) -> None:
    provider, _, api = youtube
    provider.videos(PARTY)
    clock.advance(3601)
    provider.videos(PARTY)
    charts = [r for r in api.requests if r.url.path.endswith("/videos")]
    assert len(charts) == 2
    assert len(search_requests(api)) == 1  # the comedy search is still cached


def test_spent_budget_raises_without_calling_and_resets_next_quota_day(make_api, clock, sleeps) -> None:
    api = make_api(FakeYouTube())
    store = MemoryBudgetStore()
    provider = YouTubeProvider(
        API_KEY, http=api.client(), clock=clock, sleep=sleeps, daily_search_budget=2, budget_store=store
    )
    provider.videos(CALM)  # music + nature: the day's 2 searches
    assert provider.searches_left() == 0
    with pytest.raises(QuotaExceededError, match="daily search allowance is used up") as info:
        provider.videos(Query(targets=((0.1, 0.5),), limit=5))
    assert "2 searches a day" in str(info.value)
    assert len(api.requests) == 2
    clock.advance(12 * 3600)  # 2026-11-27 00:00 UTC: still 16:00 on YouTube's quota day (Pacific time)
    assert provider.searches_left() == 0
    clock.advance(8 * 3600)  # 2026-11-27 00:00 Pacific time, when YouTube's counters reset
    assert provider.searches_left() == 2
    assert provider.videos(Query(targets=((0.1, 0.5),), limit=5))


def test_a_partly_cached_query_still_answers_when_the_budget_runs_out(make_api, clock, sleeps) -> None:
    api = make_api(FakeYouTube())
    provider = YouTubeProvider(API_KEY, http=api.client(), clock=clock, sleep=sleeps, daily_search_budget=1)
    provider.videos(Query(targets=((0.5, 0.2),), keywords=("music",), limit=5))  # the one search: music
    videos = provider.videos(CALM)  # music is cached; the nature search is over budget
    assert videos and {v.category for v in videos} == {"music"}
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("failure", "message", "left"),
    [
        (httpx.ConnectError, "is unreachable", 90),  # never left: given back
        (httpx.ConnectTimeout, "did not answer in time", 90),
        (httpx.ReadTimeout, "did not answer in time", 89),  # may have reached YouTube: counted
        (httpx.RemoteProtocolError, "is unreachable", 89),
    ],
)
def test_a_search_is_given_back_only_when_it_never_reached_youtube(
    make_api, clock, sleeps, failure: type[httpx.TransportError], message: str, left: int
) -> None:
    """A search that timed out waiting for a slow YouTube may have been counted there: giving it
    back let a slow YouTube take 9 searches from a budget of 5 (a probe, across instances)."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise failure("failed", request=request)

    api = make_api(handler)
    provider = YouTubeProvider(API_KEY, http=api.client(), clock=clock, sleep=sleeps)
    with pytest.raises(ProviderUnreachableError, match=message):
        provider.videos(CALM)
    assert provider.searches_left() == left
    with pytest.raises(ProviderUnreachableError):
        provider.videos(CALM)
    assert len(api.requests) == 1  # paused after the first failure


def test_a_search_answered_once_stays_counted_though_its_retry_cannot_connect(make_api, clock, sleeps) -> None:
    """YouTube answered the first attempt (503) and the retry found no connection: the call had
    reached YouTube, so it stays counted (it was given back)."""
    answers = iter([httpx.Response(503, json={"error": {"code": 503, "message": "backend"}})])

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers, None)
        if answer is None:
            raise httpx.ConnectError("refused", request=request)
        return answer

    api = make_api(handler)
    provider = YouTubeProvider(API_KEY, http=api.client(), clock=clock, sleep=sleeps)
    with pytest.raises(ProviderUnreachableError):
        provider.videos(Query(targets=((0.5, 0.2),), keywords=("music",), limit=5))
    assert provider.searches_left() == 89


def test_file_budget_store_counts_per_day_and_survives_a_new_instance(tmp_path) -> None:
    path = tmp_path / "sub" / "budget.json"
    store = FileBudgetStore(path)
    assert store.used("2026-11-26") == 0 and not path.exists()  # nothing written before a reservation
    assert store.reserve("2026-11-26", 90) and store.reserve("2026-11-26", 90)
    assert FileBudgetStore(path).used("2026-11-26") == 2
    assert store.used("2026-11-27") == 0
    store.exhaust("2026-11-26", 90)
    assert store.used("2026-11-26") == 90
    assert store.reserve("2026-11-27", 90)
    assert (store.used("2026-11-26"), store.used("2026-11-27")) == (0, 1)
    assert json.loads(path.read_text()) == {"day": "2026-11-27", "used": 1, "closed": False}
    path.write_text("{not json")
    assert store.used("2026-11-27") == 0  # a damaged file does not block YouTube for good
    path.write_text('{"day": "2026-11-27", "used": 4}')  # written by an older moodtape
    assert store.used("2026-11-27") == 4 and not store.closed("2026-11-27")


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_budget_stores_reserve_up_to_the_limit_release_and_close_days(kind, tmp_path) -> None:
    store = MemoryBudgetStore() if kind == "memory" else FileBudgetStore(tmp_path / "budget.json")
    day, next_day = "2026-11-26", "2026-11-27"
    assert [store.reserve(day, 3) for _ in range(5)] == [True, True, True, False, False]
    store.release(day)  # a call that never reached YouTube
    assert store.used(day) == 2 and store.reserve(day, 3) and not store.reserve(day, 3)
    assert not store.closed(day)
    store.close_day(day)
    assert store.closed(day) and not store.closed(next_day)
    assert store.reserve(next_day, 3)  # a new day starts afresh
    store.release(day)  # a reservation from yesterday gives nothing back today
    assert store.used(next_day) == 1 and not store.closed(next_day)
    store.release(next_day)
    store.release(next_day)  # never below zero
    assert store.used(next_day) == 0


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_threads_racing_for_the_last_searches_never_overshoot_the_budget(kind, tmp_path, make_api) -> None:
    """Every thread checks the budget before its call returns; only a reservation keeps them inside it."""
    store = MemoryBudgetStore() if kind == "memory" else FileBudgetStore(tmp_path / "budget.json")
    fake = FakeYouTube()

    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.2)  # YouTube takes its time: every thread is past the check before any call ends
        return fake(request)

    api = make_api(slow)
    provider = YouTubeProvider(API_KEY, http=api.client(), daily_search_budget=3, budget_store=store)

    def search(n: int) -> None:
        with contextlib.suppress(QuotaExceededError):
            provider.videos(Query(targets=((0.5, 0.2),), keywords=(f"word{n}",), limit=5))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(search, range(8)))
    assert len(search_requests(api)) == 3
    assert provider.searches_left() == 0


def test_a_spent_project_quota_met_by_one_worker_stops_every_worker(make_api, clock, sleeps, tmp_path) -> None:
    """Two processes share the budget file: the one that meets 403 quotaExceeded tells the other."""
    fake = FakeYouTube()
    fake.replies = [
        google_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.")
    ]
    api = make_api(fake)
    workers = [
        YouTubeProvider(
            API_KEY, http=api.client(), clock=clock, sleep=sleeps, budget_store=FileBudgetStore(tmp_path / "b.json")
        )
        for _ in range(2)
    ]
    with pytest.raises(QuotaExceededError, match="YouTube's daily quota is used up"):
        workers[0].videos(Query(targets=((0.2, 0.2),), keywords=("comedy",), limit=5))
    with pytest.raises(QuotaExceededError, match="YouTube's daily quota is used up"):
        workers[1].videos(PARTY)  # not even its 1-unit chart is tried
    assert len(api.requests) == 1
    clock.advance(12 * 3600)  # the next UTC day, but YouTube's quota day goes on until Pacific midnight
    with pytest.raises(QuotaExceededError, match="YouTube's daily quota is used up"):
        workers[1].videos(PARTY)
    assert len(api.requests) == 1
    clock.advance(8 * 3600)  # midnight Pacific time: YouTube's new quota day
    assert workers[1].videos(PARTY)


def test_quota_day_is_the_pacific_calendar_day() -> None:
    noon_utc = 1_795_694_400.0  # 2026-11-26 12:00 UTC = 04:00 PST
    assert quota_day(noon_utc) == "2026-11-26"
    assert quota_day(noon_utc + 12 * 3600) == "2026-11-26"  # 00:00 UTC = 16:00 PST, the same quota day
    assert quota_day(noon_utc + 20 * 3600 - 1) == "2026-11-26"  # 23:59:59 PST
    assert quota_day(noon_utc + 20 * 3600) == "2026-11-27"  # 00:00 PST
    summer = 1_783_036_800.0  # 2026-07-03 00:00 UTC = 17:00 PDT on the 2nd (daylight saving time)
    assert quota_day(summer) == "2026-07-02"
    assert quota_day(summer + 7 * 3600) == "2026-07-03"


# --- errors ---


def test_403_quota_exceeded_stops_every_call_until_tomorrow(youtube, clock) -> None:
    provider, fake, api = youtube
    fake.replies = [
        google_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.")
    ]
    with pytest.raises(
        QuotaExceededError, match="YouTube's daily quota is used up; using the built-in catalog until tomorrow"
    ):
        provider.videos(Query(targets=((0.2, 0.2),), keywords=("comedy",), limit=5))
    with pytest.raises(QuotaExceededError):
        provider.videos(PARTY)  # even the 1-unit chart is not tried
    assert len(api.requests) == 1
    clock.advance(20 * 3600)  # midnight Pacific time, where YouTube's quota day ends
    assert provider.videos(PARTY)


def test_429_on_search_spends_the_day_without_retrying(youtube, sleeps) -> None:
    provider, fake, api = youtube
    fake.replies = [httpx.Response(429, json={})]
    with pytest.raises(QuotaExceededError, match="daily search allowance is used up"):
        provider.videos(Query(targets=((0.2, 0.2),), keywords=("comedy",), limit=5))
    assert len(api.requests) == 1 and sleeps == []
    assert provider.searches_left() == 0


def test_429_on_the_chart_is_retried(youtube, sleeps) -> None:
    provider, fake, _ = youtube
    fake.replies = [google_error(429, "rateLimitExceeded", "Too many requests")]
    videos = provider.videos(Query(targets=((0.9, 0.9),), keywords=("music",), limit=5))
    assert sleeps == [0.25] and videos


@pytest.mark.parametrize(
    "reply",
    [
        google_error(400, "keyInvalid", "Bad Request"),
        google_error(400, "badRequest", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID"),
        google_error(400, "badRequest", f"API key not valid: {API_KEY}"),
    ],
)
def test_invalid_key_is_an_auth_error_naming_the_setting(youtube, reply) -> None:
    provider, fake, _ = youtube
    fake.replies = [reply]
    with pytest.raises(ProviderAuthError, match="The YouTube API key is not valid: check YOUTUBE_API_KEY") as info:
        provider.videos(CALM)
    assert API_KEY not in str(info.value)


def test_access_not_configured_tells_to_enable_the_api(youtube) -> None:
    provider, fake, _ = youtube
    fake.replies = [
        google_error(
            403, "accessNotConfigured", "YouTube Data API v3 has not been used in project 123 before or it is disabled."
        )
    ]
    with pytest.raises(ProviderAuthError, match="enable it in the Google Cloud console"):
        provider.videos(CALM)


def test_key_restrictions_are_an_auth_error(youtube) -> None:
    provider, fake, _ = youtube
    fake.replies = [
        google_error(403, "forbidden", "Requests from this referer are blocked.", "API_KEY_HTTP_REFERRER_BLOCKED")
    ]
    with pytest.raises(ProviderAuthError, match="restrictions"):
        provider.videos(CALM)


def test_other_400_quotes_google_without_the_key(youtube) -> None:
    provider, fake, _ = youtube
    fake.replies = [google_error(400, "invalidSearchFilter", f"Bad filter for key {API_KEY}")]
    with pytest.raises(ProviderError, match="HTTP 400: Bad filter for key \\*\\*\\*"):
        provider.videos(CALM)


def test_5xx_then_success_and_5xx_exhausted(youtube, sleeps) -> None:
    provider, fake, _ = youtube
    fake.replies = [httpx.Response(503), httpx.Response(500)]
    assert provider.videos(Query(targets=((0.2, 0.2),), keywords=("comedy",), limit=5))
    fake.replies = [httpx.Response(503)] * 3
    with pytest.raises(ProviderError, match=r"YouTube is having trouble \(HTTP 503\)"):
        provider.videos(Query(targets=((0.2, 0.2),), keywords=("nature",), limit=5))


@pytest.mark.parametrize("reply", [httpx.Response(200, content=b"<html>"), httpx.Response(200, json=["x"])])
def test_malformed_replies(youtube, reply) -> None:
    provider, fake, _ = youtube
    fake.replies = [reply]
    with pytest.raises(ProviderError, match=r"could not read|unexpected shape"):
        provider.videos(CALM)


def test_reply_without_items_gives_nothing(youtube) -> None:
    provider, fake, _ = youtube
    fake.replies = [httpx.Response(200, json={"kind": "youtube#searchListResponse"})] * 2
    assert provider.videos(CALM) == []


# --- the rest of the interface ---


def test_protocol_repr_and_tracks(youtube) -> None:
    provider, _, _ = youtube
    assert isinstance(provider, Provider) and provider.name == "youtube"
    assert provider.tracks(CALM) == []
    assert API_KEY not in repr(provider)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ProviderAuthError, match="YOUTUBE_API_KEY"):
        YouTubeProvider("", http=httpx.Client())
    with pytest.raises(ValueError, match="safe_search"):
        YouTubeProvider(API_KEY, safe_search="off", http=httpx.Client())


@pytest.mark.parametrize(
    "reply",
    [
        google_error(400, "keyInvalid", f"Bad key {API_KEY}"),
        google_error(403, "accessNotConfigured", f"API disabled for key {API_KEY}"),
        google_error(403, "quotaExceeded", f"quota for {API_KEY}"),
        google_error(403, "forbidden", f"{API_KEY} blocked", "API_KEY_IP_ADDRESS_BLOCKED"),
        google_error(404, "notFound", f"nothing for {API_KEY}"),
        httpx.Response(429, json={}),
        httpx.Response(503, text=API_KEY),
        httpx.Response(200, content=API_KEY.encode()),
    ],
)
def test_the_key_never_shows_in_errors_or_logs(make_api, clock, sleeps, caplog, reply) -> None:
    api = make_api(lambda request: reply)
    provider = YouTubeProvider(API_KEY, http=api.client(), clock=clock, sleep=sleeps)
    caplog.set_level("DEBUG")
    with pytest.raises(ProviderError) as info:
        provider.videos(CALM)
    assert API_KEY not in str(info.value) and API_KEY not in repr(info.value)
    assert API_KEY not in caplog.text
    assert "HTTP Request: GET https://www.googleapis.com/youtube/v3/search?" in caplog.text  # the URL, keyless
