"""YouTube: music videos and mood videos (comedy, nature, breathing…) from the Data API v3.

search.list is scarce (its own allowance of 100 calls a day since 2026-06-01), so this provider:

- caches every search for ``search_ttl`` (24 h by default) and asks for 50 results each time,
  whatever the query's limit, so one call serves many lists; visitors missing the same entry at
  the same moment share one call (:func:`~moodtape.providers.http.fetch_once`);
- counts its search calls per quota day (Pacific time, as YouTube's) in a
  :class:`~moodtape.providers.budget.BudgetStore` and,
  once ``daily_search_budget`` is spent, raises :class:`QuotaExceededError` without calling;
- uses the 1-unit ``videos.list?chart=mostPopular&videoCategoryId=10`` for upbeat music, where
  a chart serves as well as a search;
- asks again, once a cached search is ``status_recheck`` seconds old (6 h in the app), whether its
  videos still play: one ``videos.list?part=status&id=…`` call for all of them (1 quota unit, no
  search allowance), so a video deleted or made private after the search is no longer offered
  (:mod:`moodtape.providers.youtube_status`).

The API key travels in the ``X-Goog-Api-Key`` header (Google's documented alternative to
``key=``), so it never sits in a URL that a log or proxy might record.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Final, Literal

import httpx

from moodtape.errors import ProviderAuthError, ProviderError, QuotaExceededError
from moodtape.providers.base import Query, Shortfall
from moodtape.providers.budget import BudgetStore, MemoryBudgetStore, quota_day
from moodtape.providers.http import (
    DEFAULT_RETRY,
    Cache,
    Clock,
    OutOfTimeError,
    RetryPolicy,
    ServiceClient,
    SharedPauses,
    Sleep,
    TTLCache,
    fetch_once,
    json_dict,
    shortfall_reason,
)
from moodtape.providers.moodwords import interleave, mean_point, regions, targets_in
from moodtape.providers.youtube_replies import (
    PROJECT_QUOTA_MESSAGE,
    KeyRefusedError,
    ProjectQuotaError,
    RegionRefusedError,
    SearchQuotaError,
    item_video_id,
    region_refused,
    video_from_youtube,
    youtube_error,
)
from moodtape.providers.youtube_status import MAX_RESULTS, STATUS_RECHECK, VIDEOS_URL, StatusCheck, gone_key
from moodtape.providers.youtube_status import STATUS_RECHECK_RETRY as STATUS_RECHECK_RETRY  # re-exported
from moodtape.types import Track, Video

SEARCH_URL = "https://www.googleapis.com/youtube/v3/search"
MUSIC_CATEGORY_ID = "10"
#: Seconds a refused ``YOUTUBE_REGION`` is remembered, in the process and in the shared cache (a
#: restart with another region asks again at once: the region is part of the key). After it,
#: YouTube is asked again, in case the refusal was YouTube's passing mistake.
REGION_REFUSAL_TTL = 86400.0
#: Seconds one :meth:`YouTubeProvider.videos` call may spend calling YouTube (``search_budget``):
#: once less than one attempt's timeout is left, the fetches still to come are read from the cache
#: only (no call, no status re-check), and a later fetch is retried only when the retry still ends
#: within it. Three fetches (two music regions and a mood video) answering in 4.9 s held a visitor
#: 14.7 s; now 9.8 s. The first fetch always goes, with every retry.
SEARCH_BUDGET = 10.0
_SERVICE = "YouTube"

#: Mood-video categories → the search that finds them. A query keyword naming one asks for it.
MOOD_VIDEOS: dict[str, str] = {
    "comedy": "stand-up comedy",
    "nature": "nature sounds relaxation",
    "breathing": "guided breathing exercise",
    "meditation": "guided meditation",
    "motivation": "motivational speech",
}

__all__ = ["MOOD_VIDEOS", "YouTubeProvider", "default_mood_category"]


@dataclass(frozen=True)
class _Fetch:
    kind: Literal["search", "chart"]
    q: str
    category: str  # "music" or a key of MOOD_VIDEOS
    point: tuple[float, float]
    targets: tuple[tuple[float, float], ...] = ()  # the path's slots it is for


def _shortfall(plan: list[_Fetch], missing: list[_Fetch], error: ProviderError | None, budget: float) -> Shortfall:
    """What a :meth:`YouTubeProvider.videos` call went without: the fetches that brought nothing
    (out of time and not cached, or failed), and the failure that ended one, when not only time."""
    missed = tuple(dict.fromkeys(target for fetch in missing for target in fetch.targets))
    return Shortfall(_SERVICE, "requests", len(plan) - len(missing), len(plan), budget, shortfall_reason(error), missed)


def default_mood_category(targets: tuple[tuple[float, float], ...]) -> str:
    """The mood-video category for a path when the query names none.

    Tense start (low valence, high energy: anger, fear) → breathing; a path ending low in energy
    → nature; ending high in energy without high valence → motivation; otherwise → comedy.
    """
    start, end = mean_point(targets[:1]), mean_point(targets[-1:])
    if start[0] < 1 / 3 and start[1] > 2 / 3:
        return "breathing"
    if end[1] < 1 / 3:
        return "nature"
    if end[1] > 2 / 3 and end[0] <= 2 / 3:
        return "motivation"
    return "comedy"


class YouTubeProvider:
    """Videos from YouTube. ``tracks()`` is always ``[]``.

    Args:
        api_key: a YouTube Data API v3 key; kept private, never shown.
        region: ``regionCode`` for searches and charts.
        safe_search: ``none``, ``moderate`` or ``strict``.
        daily_search_budget: search.list calls allowed per quota day (midnight to midnight Pacific
            time, as YouTube counts).
        http, clock, sleep: injectable for tests. ``clock`` times the cache, pauses and the region's
            refusal, all lengths of time, so it is monotonic by default: a wall clock stepped back an
            hour stretched a 60 s pause to an hour and a minute.
        budget_store: where the day's count lives (default: this process's memory).
        quota_clock: the clock that names the quota day: the clock of the store shared by every
            instance (Redis's), so that they all change day at once; by default ``clock`` when one
            is given (a test's), else the wall clock (``time.time``).
        cache: where answers are cached (default: this process's memory, for ``cache_ttl``).
        cache_ttl: seconds a chart is cached; search_ttl: seconds a search is cached.
        status_recheck: seconds before a cached search's videos are asked about again (1 unit);
            None: never.
        search_budget: seconds one :meth:`videos` call may spend calling YouTube (:data:`SEARCH_BUDGET`).
        pauses: where a pause after a rate limit or a refused key is kept for the other worker
            processes and instances (``state/pauses.py``); None: this process keeps its own.
    """

    name = "youtube"
    #: The service's name as people read it: in front of its errors and of its failures in the log.
    SERVICE: Final = _SERVICE

    def __init__(
        self,
        api_key: str,
        *,
        region: str = "US",
        safe_search: str = "moderate",
        daily_search_budget: int = 90,
        http: httpx.Client | None = None,
        clock: Clock | None = None,
        sleep: Sleep = time.sleep,
        budget_store: BudgetStore | None = None,
        quota_clock: Clock | None = None,
        cache_ttl: float = 3600.0,
        search_ttl: float = 86400.0,
        status_recheck: float | None = STATUS_RECHECK,
        timeout: float = 5.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        cache: Cache[list[Any]] | None = None,
        search_budget: float = SEARCH_BUDGET,
        pauses: SharedPauses | None = None,
    ) -> None:
        if not api_key:
            raise ProviderAuthError("YouTube needs an API key: set YOUTUBE_API_KEY.")
        if safe_search not in ("none", "moderate", "strict"):
            raise ValueError(f"safe_search must be none, moderate or strict, got {safe_search!r}")
        self._api_key = api_key
        self._quota_clock = quota_clock if quota_clock is not None else clock if clock is not None else time.time
        clock = clock if clock is not None else time.monotonic
        self.region = region
        self.safe_search = safe_search
        self.daily_search_budget = daily_search_budget
        self._client = ServiceClient(
            http if http is not None else httpx.Client(timeout=timeout),
            _SERVICE,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
            clock=clock,
            secrets=lambda: (self._api_key,),
            shared_pauses=pauses,
        )
        self._clock = clock
        self._budget = budget_store if budget_store is not None else MemoryBudgetStore()
        # 512: each cached search has its re-check entry beside it, and a day's searches (the
        # budget) must all stay cached: evicting one spends a scarce search again.
        self._cache = cache if cache is not None else TTLCache[list[Any]](cache_ttl, 512, clock, "youtube")
        self._search_ttl = search_ttl
        self.status_recheck = status_recheck
        self.search_budget = search_budget
        self._status = StatusCheck(self._client, self._cache, self._budget, self._quota_clock, api_key)
        #: When this process stops taking ``region`` for refused (clock time; 0: not refused).
        self._region_refused_until = 0.0
        self._outcome = threading.local()  # per request thread: its own call's shortfall

    @property
    def last_shortfall(self) -> Shortfall | None:
        """What this thread's last :meth:`videos` call went without (time ran out, or a fetch after
        the first failed), or None when every fetch came: the engine says so."""
        shortfall: Shortfall | None = getattr(self._outcome, "shortfall", None)
        return shortfall

    def __repr__(self) -> str:
        return f"YouTubeProvider(region={self.region!r}, safe_search={self.safe_search!r}, api_key='set')"

    def searches_left(self) -> int:
        """search.list calls still allowed today (YouTube's quota day, Pacific time)."""
        return max(0, self.daily_search_budget - self._budget.used(quota_day(self._quota_clock())))

    # --- the Provider protocol ---

    def tracks(self, query: Query) -> list[Track]:
        """YouTube gives videos, not tracks."""
        self._outcome.shortfall = None  # nothing was asked, so nothing went missing
        return []

    def videos(self, query: Query) -> list[Video]:
        """Up to ``query.limit`` videos, the results of each fetch interleaved so every kind shows.

        A used-up quota on one fetch, or any error on a fetch after the first, still returns what
        the others (or the cache) found; it is raised only when nothing at all was found. Other
        errors of the first fetch are raised at once. The fetches after the first keep within
        :attr:`search_budget` (see :meth:`_items_within`).
        """
        self._outcome.shortfall = None
        deadline = self._clock() + self.search_budget
        found: list[list[Video]] = []
        kept_error: ProviderError | None = None
        plan = self._plan(query)
        missing: list[_Fetch] = []
        for number, fetch in enumerate(plan):
            try:
                items = self._items_within(fetch, deadline, first=number == 0)
            except ProviderError as error:
                if number == 0 and not isinstance(error, QuotaExceededError):
                    raise
                if kept_error is None or isinstance(kept_error, OutOfTimeError):
                    kept_error = error  # a real failure is the one worth naming
                missing.append(fetch)
                continue
            if items is None:
                missing.append(fetch)
                continue
            found.append([v for item in items if (v := video_from_youtube(item, fetch.point, fetch.category))])
        merged = interleave(found, key=lambda video: video.youtube_id)
        if not merged and kept_error is not None and not isinstance(kept_error, OutOfTimeError):
            raise kept_error  # only time ran out: the shortfall below says so, the catalog fills
        if missing:
            self._outcome.shortfall = _shortfall(plan, missing, kept_error, self.search_budget)
        return merged[: query.limit]

    def _items_within(self, fetch: _Fetch, deadline: float, *, first: bool) -> list[Any] | None:
        """The items of one fetch: called for while at least one attempt's timeout is left before
        ``deadline`` (retried only when the retry still ends by then), else from the cache alone
        (None: not cached). The first fetch always goes, with every retry; a status re-check of a
        cached search, which loses nothing when skipped, is held to ``deadline`` even then."""
        if first:
            return self._items(fetch, None, deadline)
        if not self._client.has_time_for_an_attempt(deadline):
            return self._cached_items(fetch)
        return self._items(fetch, deadline, deadline)

    # --- planning ---

    def _plan(self, query: Query) -> list[_Fetch]:
        """Music fetches (a chart or searches) and mood-video searches, decided by the keywords.

        A keyword naming a category of :data:`MOOD_VIDEOS` asks for those videos only, unless the
        keyword ``music`` is there too; with no category named, music comes with one mood category
        chosen by :func:`default_mood_category`. Other keywords replace the mood words in music searches.
        """
        words = [k.strip().lower() for k in query.keywords]
        named = [w for w in dict.fromkeys(words) if w in MOOD_VIDEOS][:2]
        other = tuple(k for k, w in zip(query.keywords, words, strict=True) if w not in MOOD_VIDEOS and w != "music")
        fetches: list[_Fetch] = []
        if "music" in words or not named:
            fetches.extend(self._music_fetches(query, other))
        leading = query.targets[-max(1, len(query.targets) // 3) :]  # where the list leads
        lead = mean_point(leading)
        for category in named or [default_mood_category(query.targets)]:
            fetches.append(_Fetch("search", MOOD_VIDEOS[category], category, lead, leading))
        return fetches

    def _music_fetches(self, query: Query, keywords: tuple[str, ...]) -> list[_Fetch]:
        genre = " ".join(g.replace('"', "") for g in query.genres[:1])
        if keywords:
            q = " ".join(w for w in (*keywords, genre, "music") if w)
            return [_Fetch("search", q, "music", mean_point(query.targets), query.targets)]
        fetches = []
        for region in regions(query.targets, max_regions=2):
            slots = targets_in(query.targets, region.bands)
            if region.upbeat and not genre:
                fetches.append(_Fetch("chart", "", "music", region.point, slots))
            else:
                q = " ".join(w for w in (*region.words, genre, "music") if w)
                fetches.append(_Fetch("search", q, "music", region.point, slots))
        return fetches

    # --- calls ---

    def _items(self, fetch: _Fetch, deadline: float | None = None, check_by: float | None = None) -> list[Any]:
        """The raw items of one fetch: from the cache, or one call within quota and budget;
        ``check_by``: the deadline of a status re-check of a cached search (None: none).

        Single flight (:func:`fetch_once`): of the callers missing the same entry at once (threads,
        and with Redis every instance), one calls and the others wait for its answer instead of
        each spending a search: until ``deadline`` at most (a later fetch with 5.1 s of its search
        left waited up to 17.5 s). The first fetch, not held to the budget, waits as long as the
        other's call may take: calling instead would spend a second search of the day's allowance.
        """
        ttl = self._cache.ttl if fetch.kind == "chart" else self._search_ttl
        hold = self._client.longest_request
        wait = self._client.wait_allowed(deadline)
        items = fetch_once(
            self._cache, self._key(fetch), lambda: self._call(fetch, deadline), ttl=ttl, hold=hold, wait=wait
        )
        if fetch.kind == "chart" or self.status_recheck is None or self._search_ttl <= 0:
            return items  # a chart lives an hour and says its status
        gone = set(self._status.gone(self._key(fetch), items, every=self.status_recheck, deadline=check_by))
        return [item for item in items if item_video_id(item) not in gone] if gone else items

    def _cached_items(self, fetch: _Fetch) -> list[Any] | None:
        """The raw items of one fetch from the cache alone, without those a past re-check found
        gone (None when not cached): for fetches the search budget leaves no time to call for."""
        items = self._cache.get(self._key(fetch))
        if items is None:
            return None
        gone = set(self._cache.get(gone_key(self._key(fetch))) or []) if fetch.kind == "search" else set()
        return [item for item in items if item_video_id(item) not in gone] if gone else items

    def _key(self, fetch: _Fetch) -> tuple[str, str, bool, str, str]:
        return (fetch.kind, fetch.q, fetch.category == "music", self.region, self.safe_search)

    def _call(self, fetch: _Fetch, deadline: float | None = None) -> list[Any]:
        """One call within quota and budget: the raw items."""
        self._raise_if_region_refused()
        day = quota_day(self._quota_clock())
        if self._budget.closed(day):
            raise ProjectQuotaError(PROJECT_QUOTA_MESSAGE)
        self._client.raise_if_paused()  # before reserving: a paused call reaches no one and costs nothing
        if fetch.kind == "search" and not self._budget.reserve(day, self.daily_search_budget):
            raise SearchQuotaError(
                f"YouTube's daily search allowance is used up (moodtape's budget: "
                f"{self.daily_search_budget} searches a day); using the built-in catalog until tomorrow."
            )
        try:
            body = self._chart(deadline) if fetch.kind == "chart" else self._search(fetch, day, deadline)
        except ProjectQuotaError:
            self._budget.close_day(day)  # every instance sharing the store stops calling until tomorrow
            raise
        except SearchQuotaError:
            self._budget.exhaust(day, self.daily_search_budget)
            raise
        except RegionRefusedError:
            self._remember_region_refused()
            raise
        items = json_dict(body, _SERVICE).get("items")
        if fetch.kind == "search" and self.status_recheck is not None:  # they play now; asked again later
            self._cache.set(gone_key(self._key(fetch)), [], ttl=self.status_recheck)
        # Never more than asked for: 60,000 items (3.8 MB, under the size cap) were all cached and
        # read again on every visit (1.3 s each), where YouTube sends at most MAX_RESULTS.
        return items[:MAX_RESULTS] if isinstance(items, list) else []

    def _remember_region_refused(self) -> None:
        """Keep YouTube's refusal of the region, for every process sharing the cache (Redis: every
        instance) for a day, or until the setting names another region.

        Before, a bad ``YOUTUBE_REGION`` ("XX") cost one search per request all day long, and
        visitors read YouTube's words about a parameter; now it costs the one search that found out.
        """
        self._region_refused_until = self._clock() + REGION_REFUSAL_TTL
        self._cache.set(self._region_key(), [True], ttl=REGION_REFUSAL_TTL)

    def _raise_if_region_refused(self) -> None:
        """Raise the region's refusal again, without calling or reserving a search, when this
        process (for :data:`REGION_REFUSAL_TTL`) or another sharing the cache was refused it."""
        if self._clock() >= self._region_refused_until:
            if not self._cache.get(self._region_key()):
                return
            # Another process's refusal: not kept here (the shared entry ends on its own), and
            # logged once in this process (ServiceClient logs a repeated message once).
            self._client.fail(region_refused(self.region))
        error = region_refused(self.region)
        error.maybe_sent = False
        raise error

    def _region_key(self) -> tuple[str, str]:
        return ("region-refused", self.region)

    def _search(self, fetch: _Fetch, day: str, deadline: float | None = None) -> Any:
        """One search.list call, already reserved in the day's budget; released if YouTube never saw it."""
        params: dict[str, str | int] = {
            "part": "snippet",
            "q": fetch.q,
            "type": "video",
            "videoEmbeddable": "true",
            "safeSearch": self.safe_search,
            "regionCode": self.region,
            "maxResults": MAX_RESULTS,
        }
        if fetch.category == "music":
            params["videoCategoryId"] = MUSIC_CATEGORY_ID
        try:
            body = self._client.request(
                "GET",
                SEARCH_URL,
                params=params,
                headers={"X-Goog-Api-Key": self._api_key},
                on_error=lambda response: youtube_error(response, search=True),
                deadline=deadline,
            )
        except KeyRefusedError:
            # Refused at the door (invalid key, API not enabled, key restrictions): YouTube counts
            # nothing against a key it refuses, and keeping these counted spent the day's budget on
            # a wrong key, so YouTube stayed shut until midnight Pacific after the key was mended.
            self._budget.release(day)
            raise
        except ProviderError as error:
            # Given back only when it surely never reached YouTube (no connection made, or a pause
            # another visitor started after this search was reserved): a search that timed out
            # while YouTube was slow may still have been counted there, and giving those back let
            # a slow YouTube take 9 searches from a budget of 5.
            if not error.maybe_sent:
                self._budget.release(day)
            raise
        return body  # answered, even with another error: the reserved call stays counted

    def _chart(self, deadline: float | None = None) -> Any:
        """The region's most popular music videos: 1 quota unit, no search allowance."""
        params: dict[str, str | int] = {
            "part": "snippet,status",  # status.embeddable: a chart is not filtered like a search
            "chart": "mostPopular",
            "videoCategoryId": MUSIC_CATEGORY_ID,
            "regionCode": self.region,
            "maxResults": MAX_RESULTS,
        }
        return self._client.request(
            "GET",
            VIDEOS_URL,
            params=params,
            headers={"X-Goog-Api-Key": self._api_key},
            on_error=lambda response: youtube_error(response, search=False),
            deadline=deadline,
        )
