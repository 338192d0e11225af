"""Videos deleted or made private after a YouTube search was cached are no longer offered.

A search is cached for a day; the provider asks videos.list (part=status, every ID in one call:
1 quota unit, no search allowance) once the cached answer is STATUS_RECHECK old, and drops what
YouTube no longer plays. A failed or odd re-check removes nothing, and one YouTube answered is not
asked again before another STATUS_RECHECK (it may have cost a unit).
"""

from __future__ import annotations

import httpx
import pytest

from moodtape.config import Settings
from moodtape.errors import QuotaExceededError
from moodtape.providers.base import Query
from moodtape.providers.registry import live_providers
from moodtape.providers.youtube import STATUS_RECHECK, STATUS_RECHECK_RETRY, YouTubeProvider

API_KEY = "AIzaFAKE-test-key-0123456789"
CALM = Query(targets=((0.5, 0.2),) * 3, limit=50)  # one music search + one nature search


def video_id(n: int) -> str:
    return f"fixture{n:04d}"


class FakeYouTube:
    """search.list: 5 videos per distinct query (numbered from 100, 200…); videos.list?id=…: the
    status of each ID asked about that is not in ``deleted``, with ``status`` overrides."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.deleted: set[str] = set()
        self.status: dict[str, dict[str, object]] = {}
        self.status_reply: httpx.Response | None = None  # answers every status check when set
        self.offline = False  # status checks find no connection
        self.bare = False  # videos.list items without their status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/youtube/v3/search":
            q = request.url.params["q"]
            if q not in self.queries:
                self.queries.append(q)
            base = 100 * (self.queries.index(q) + 1)
            items = [
                {
                    "id": {"kind": "youtube#video", "videoId": video_id(base + i)},
                    "snippet": {"title": f"Video {base + i}"},
                }
                for i in range(5)
            ]
            return httpx.Response(200, json={"items": items})
        assert request.url.path == "/youtube/v3/videos" and "id" in request.url.params
        if self.offline:
            raise httpx.ConnectError("no route to host", request=request)
        if self.status_reply is not None:
            return self.status_reply
        asked = request.url.params["id"].split(",")
        items = [
            {
                "kind": "youtube#video",
                "id": i,
                "status": {"privacyStatus": "public", "embeddable": True, **self.status.get(i, {})},
            }
            for i in asked
            if i not in self.deleted
        ]
        if self.bare:
            items = [{"kind": "youtube#video", "id": item["id"]} for item in items]
        return httpx.Response(200, json={"items": items})

    def checks(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/youtube/v3/videos"]

    def searches(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/youtube/v3/search"]


@pytest.fixture
def fake() -> FakeYouTube:
    return FakeYouTube()


@pytest.fixture
def provider(fake, clock, sleeps) -> YouTubeProvider:
    return YouTubeProvider(
        API_KEY,
        http=httpx.Client(transport=httpx.MockTransport(fake)),
        clock=clock,
        sleep=sleeps,
    )  # status_recheck left to its default: on


def ids(provider: YouTubeProvider) -> set[str]:
    return {video.youtube_id for video in provider.videos(CALM) if video.youtube_id}


def test_the_recheck_is_on_by_default_and_in_the_app(tmp_path) -> None:
    assert YouTubeProvider(API_KEY).status_recheck == STATUS_RECHECK
    settings = Settings({"MOODTAPE_DATA_DIR": str(tmp_path), "YOUTUBE_API_KEY": "ykey-789"})
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(500)))
    (youtube,) = live_providers(settings, http)
    assert isinstance(youtube, YouTubeProvider)
    assert youtube.status_recheck == STATUS_RECHECK


def test_a_video_deleted_after_the_search_is_dropped_once_the_cache_is_old(provider, fake, clock) -> None:
    first = ids(provider)
    assert len(first) == 10 and len(fake.searches()) == 2
    fake.deleted = {video_id(101), video_id(203)}
    fake.status[video_id(102)] = {"privacyStatus": "private"}
    fake.status[video_id(104)] = {"embeddable": False}
    fake.status[video_id(200)] = {"uploadStatus": "deleted"}
    clock.advance(STATUS_RECHECK - 60)
    assert ids(provider) == first  # still trusted: nothing asked
    assert fake.checks() == []
    clock.advance(120)
    gone = {video_id(n) for n in (101, 203, 102, 104, 200)}
    assert ids(provider) == first - gone
    assert ids(provider) == first - gone  # remembered: not asked again
    checks = fake.checks()
    assert len(checks) == 2  # one per cached search, every ID in the one call
    assert all(c.url.params["part"] == "status" and "maxResults" not in c.url.params for c in checks)
    assert sorted(i for c in checks for i in c.url.params["id"].split(",")) == sorted(first)
    assert all(API_KEY not in str(c.url) and c.headers["X-Goog-Api-Key"] == API_KEY for c in checks)
    assert len(fake.searches()) == 2 and provider.searches_left() == 88  # no search spent on it


def test_a_day_of_visits_costs_three_status_units_per_cached_search(provider, fake, clock) -> None:
    """The quota measured: a visit every 10 minutes for 24 h (145 visits) → 2 searches (the day's
    cache) and 3 re-checks of each (at 6, 12 and 18 h): 6 units of videos.list in all."""
    for _ in range(24 * 6):
        ids(provider)
        clock.advance(600)
    assert len(fake.searches()) == 2
    assert len(fake.checks()) == 2 * 3


ODD_OR_FAILED = {
    "no-items": httpx.Response(200, json={"kind": "youtube#videoListResponse"}),
    "videos-not-asked": httpx.Response(
        200, json={"items": [{"id": "otherVideo1", "status": {"privacyStatus": "public"}}]}
    ),
    "item-without-id": httpx.Response(200, json={"items": [{"kind": "youtube#video"}]}),
    "malformed-id": httpx.Response(200, json={"items": [{"id": "short"}]}),
    "search-style-id": httpx.Response(200, json={"items": [{"id": {"videoId": "x"}}]}),
    "null-item": httpx.Response(200, json={"items": [None]}),
    "empty-items": httpx.Response(200, json={"items": []}),  # would drop every video asked about
    "all-private": httpx.Response(
        200, json={"items": [{"id": video_id(n), "status": {"privacyStatus": "private"}} for n in range(100, 105)]}
    ),
    "down": httpx.Response(503, text="<html>down</html>"),
    "quota": httpx.Response(
        403, json={"error": {"code": 403, "message": "q", "errors": [{"reason": "quotaExceeded"}]}}
    ),
}


@pytest.mark.parametrize("name", sorted(ODD_OR_FAILED))
def test_an_answered_failed_or_odd_recheck_removes_nothing_and_waits_a_whole_recheck(
    provider, fake, clock, name
) -> None:
    """Before, an item without a valid ID (or ``{"items": []}``) counted every video asked about as
    gone: 10 videos → 0. And an answered failure was asked again every 10 minutes."""
    first = ids(provider)
    fake.status_reply = ODD_OR_FAILED[name]
    clock.advance(STATUS_RECHECK + 1)
    assert ids(provider) == first
    asked = len(fake.checks())
    assert asked >= 1
    fake.status_reply = None
    fake.deleted = {video_id(100)}
    clock.advance(STATUS_RECHECK_RETRY + 1)
    assert ids(provider) == first
    assert len(fake.checks()) == asked  # YouTube answered (maybe billed): not asked every 10 minutes
    clock.advance(STATUS_RECHECK)
    if name == "quota":  # the project's quota is spent for the day: nothing is asked
        assert ids(provider) == first
    else:
        assert ids(provider) == first - {video_id(100)}


def test_a_recheck_that_found_no_connection_is_tried_again_after_ten_minutes(provider, fake, clock) -> None:
    first = ids(provider)
    fake.offline = True
    clock.advance(STATUS_RECHECK + 1)
    assert ids(provider) == first
    asked = len(fake.checks())
    assert asked >= 1
    clock.advance(STATUS_RECHECK_RETRY / 2)
    assert ids(provider) == first
    assert len(fake.checks()) == asked  # not asked on every visit while it fails
    fake.offline = False
    fake.deleted = {video_id(100)}
    clock.advance(STATUS_RECHECK_RETRY)
    assert ids(provider) == first - {video_id(100)}


@pytest.mark.parametrize("name", ["videos-not-asked", "bad-request"])
def test_a_day_of_answered_failures_costs_three_status_units_per_cached_search(provider, fake, clock, name) -> None:
    """Before: 216 checks (108 per search: every 10 minutes once the first 6 h were over), each
    maybe a unit; 90 searches a day so would spend most of a project's 10,000 units."""
    fake.status_reply = {
        "videos-not-asked": ODD_OR_FAILED["videos-not-asked"],
        "bad-request": httpx.Response(400, json={"error": {"code": 400, "errors": [{"reason": "badRequest"}]}}),
    }[name]
    for _ in range(24 * 6):
        ids(provider)
        clock.advance(600)
    assert len(fake.searches()) == 2
    assert len(fake.checks()) == 2 * 3


def test_a_fresh_search_is_not_checked(provider, fake, clock) -> None:
    ids(provider)
    clock.advance(86400 + 1)  # the cached day is over: searched again, and a fresh answer is trusted
    ids(provider)
    assert len(fake.searches()) == 4 and fake.checks() == []


def test_status_recheck_none_turns_the_recheck_off(fake, clock, sleeps) -> None:
    bare = YouTubeProvider(
        API_KEY,
        http=httpx.Client(transport=httpx.MockTransport(fake)),
        clock=clock,
        sleep=sleeps,
        status_recheck=None,
    )
    first = ids(bare)
    fake.deleted = set(first)
    clock.advance(STATUS_RECHECK * 3)
    assert ids(bare) == first and fake.checks() == []


def test_a_used_up_search_allowance_still_serves_checked_cached_videos(provider, fake, clock) -> None:
    first = ids(provider)
    fake.deleted = {video_id(100)}
    clock.advance(STATUS_RECHECK + 1)
    provider.daily_search_budget = 0
    assert ids(provider) == first - {video_id(100)}
    with pytest.raises(QuotaExceededError):
        provider.videos(Query(targets=((0.1, 0.9),) * 3, keywords=("breathing",), limit=5))


def test_an_answered_video_without_a_status_is_kept(provider, fake, clock) -> None:
    first = ids(provider)
    fake.bare = True  # every video answered without its status, but one not answered at all
    fake.deleted = {video_id(100)}
    clock.advance(STATUS_RECHECK + 1)
    assert ids(provider) == first - {video_id(100)}
