"""Spotify: mood- and genre-aware track and playlist searches with the Client Credentials flow.

What Spotify still offers a new app (see docs/providers.md): search. Recommendations, audio features,
related artists and curated playlists are closed since 2024-11-27, and since February 2026 a
development-mode app gets ``limit`` ≤ 10 per search page and needs an owner with Premium. So:

- the target path becomes a few text searches (:mod:`moodtape.providers.moodwords`), each paged
  10 at a time with ``offset``, at most ``max_pages`` requests per :meth:`SpotifyProvider.tracks`;
- each track is given the target point its search was made for, with ``estimated=True``;
- every search page (tracks and playlists together) is cached, so :meth:`SpotifyProvider.playlists`
  after :meth:`SpotifyProvider.tracks` for the same query sends nothing, and visitors missing the
  same page at the same moment share one search (:func:`~moodtape.providers.http.fetch_once`).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import httpx

from moodtape.errors import ProviderAuthError, ProviderError
from moodtape.providers.base import Query, Shortfall
from moodtape.providers.http import (
    AUTH_PAUSE,
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
    for_operator,
    json_dict,
    not_available_here,
    paused,
    quote_api_message,
)
from moodtape.providers.moodwords import mean_point, regions, targets_in
from moodtape.providers.spotify_items import SpotifyPlaylist, playlist_from_spotify
from moodtape.providers.spotify_pages import PAGE_LIMIT, Progress, Search, ends_first, merged, one_page, read_page
from moodtape.types import Track, Video

TOKEN_URL = "https://accounts.spotify.com/api/token"
SEARCH_URL = "https://api.spotify.com/v1/search"
#: Renew the token this many seconds before Spotify says it expires.
TOKEN_MARGIN = 60.0
#: The shortest time a token is kept, whatever its reply's ``expires_in`` (Spotify's is 3600): a
#: reply saying 0, -5 or 30 made every search fetch a new token first (2 calls a search). A token
#: that truly expires sooner meets a 401, which renews it once (:class:`_StaleTokenError`).
MIN_TOKEN_LIFETIME = 60.0
#: Seconds one :meth:`SpotifyProvider.tracks` call may spend on search pages (``search_budget``):
#: no page starts once less than one attempt's timeout is left of it (cached pages are still read),
#: and a later page is retried only when the retry still ends within it. Six pages answering in
#: 4.9 s held a visitor 29.4 s; now 9.8 s. The first page always goes; it and a token fetched for it
#: share one request's longest time (17.5 s), where a slow token added its own 17.5 s before.
SEARCH_BUDGET = 10.0
#: Seconds a wait on the token lock may last and still cost a call nothing: another thread reading
#: the cached token holds the lock for microseconds (a few milliseconds when the interpreter switches
#: threads), where a token fetch takes a round trip. Such a wait is always allowed and is no wait on
#: another visitor (:meth:`_Limits.after_wait`): counted as one, it took a first page's "first
#: attempt always goes" from the token renewed after a 401, which gave up 10 s into the search.
BRIEF_LOCK_WAIT = 0.05
_SERVICE = "Spotify"
_CREDENTIALS_HINT = "check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET"

__all__ = ["PAGE_LIMIT", "SpotifyPlaylist", "SpotifyProvider"]


class _StaleTokenError(ProviderAuthError):
    """A 401 on a search: the token expired early or was revoked; fetched again once."""

    pauses: ClassVar[bool] = False  # worth trying again at once: no pause, no log line


@dataclass(frozen=True)
class _Limits:
    """When a call made for a search must end (on the provider's clock; None: not held to any, as
    :meth:`SpotifyProvider.playlists`): ``call`` for the call itself, ``token`` for what comes
    before it: an access token fetched for it, and any wait on another visitor's work (its claim
    on the same page, the token lock while it fetches a token), which went on up to 17.5 s
    whatever was left of the search. ``always``: the search's first page, whose first attempt goes
    whatever is left, and so does the first attempt of a token fetched for it (after a 401 late in
    the page's time, the first page was given up with "ran out of time before it could ask
    again"), until it waited on another visitor (:meth:`after_wait`)."""

    call: float | None = None
    token: float | None = None
    always: bool = False

    def after_wait(self, attempt: float) -> _Limits:
        """These limits for a call made after waiting on another visitor (its claim on the page, the
        token lock): no attempt goes past ``call`` any more, not even a first page's, and a token is
        fetched only while one ``attempt`` of the call still fits after it. A first page that waited
        its 12.5 s for a claim never given back then fetched a token and sent itself anyway, ending
        22.3 s into the search; now nothing is sent, and the catalog stands in after 12.5 s."""
        if self.call is None:
            return self
        room = self.call - attempt
        return _Limits(self.call, room if self.token is None else min(self.token, room), always=False)


class SpotifyProvider:
    """Tracks (and playlists) from Spotify's search. ``videos()`` is always ``[]``.

    Args:
        client_id, client_secret: the app's credentials; kept private, never shown.
        market: ISO 3166-1 alpha-2 country whose catalogue is searched.
        http: the client to send requests with (tests pass one on ``httpx.MockTransport``).
        clock, sleep: injectable time, for the token's expiry, the cache, pauses, the search budget
            and retry waits. Monotonic by default: each use is a length of time, and a wall clock
            stepped back an hour stretched a 60 s pause to an hour and a minute.
        cache_ttl: seconds a search page is cached.
        max_pages: the most search requests one :meth:`tracks` call may send.
        timeout: seconds per attempt.
        search_budget: seconds one :meth:`tracks` call may spend on pages (:data:`SEARCH_BUDGET`).
        pauses: where a pause after a 429 or refused credentials is kept for every instance
            (``state/pauses.py``, with Redis) and every worker of ``serve --processes N``
            (``state/process_pauses.py``); None: this process keeps its own.
    """

    name = "spotify"
    #: The service's name as people read it: in front of its errors and of its failures in the log.
    SERVICE: Final = _SERVICE

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        market: str = "US",
        http: httpx.Client | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        cache_ttl: float = 3600.0,
        max_pages: int = 6,
        timeout: float = 5.0,
        search_budget: float = SEARCH_BUDGET,
        retry: RetryPolicy = DEFAULT_RETRY,
        cache: Cache[dict[str, Any]] | None = None,
        pauses: SharedPauses | None = None,
    ) -> None:
        if not client_id or not client_secret:
            raise ProviderAuthError(f"Spotify needs a client ID and secret: {_CREDENTIALS_HINT}.")
        self._client_id = client_id
        self._client_secret = client_secret
        self.market = market
        self._client = ServiceClient(
            http if http is not None else httpx.Client(timeout=timeout),
            _SERVICE,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
            clock=clock,
            secrets=lambda: (self._client_id, self._client_secret, self._token or ""),
            shared_pauses=pauses,
        )
        self._clock = clock
        self.max_pages = max(1, max_pages)
        self.search_budget = search_budget
        self._cache = cache if cache is not None else TTLCache[dict[str, Any]](cache_ttl, 512, clock, _SERVICE)
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = threading.Lock()
        self._outcome = threading.local()  # per request thread: its own call's shortfall

    @property
    def last_shortfall(self) -> Shortfall | None:
        """What this thread's last :meth:`tracks` call went without (time ran out, or a page after
        the first failed), or None when it read every page it planned: the engine says so."""
        shortfall: Shortfall | None = getattr(self._outcome, "shortfall", None)
        return shortfall

    def __repr__(self) -> str:
        return f"SpotifyProvider(market={self.market!r}, credentials='set')"

    # --- the Provider protocol ---

    def tracks(self, query: Query) -> list[Track]:
        """Up to ``query.limit`` distinct tracks, one search per mood region, the regions interleaved.

        Pages go round the searches, the path's ends first (start, end, middle: every search's
        first page, then every second page…), within :attr:`search_budget`: see :meth:`_page`. A
        page after the first that fails ends the search with what the earlier ones found (the
        client counts and logs the failure as for any request). What a search cut short went
        without is kept in :attr:`last_shortfall` for the engine to say.
        """
        self._outcome.shortfall = None
        started = self._clock()
        deadline = started + self.search_budget
        plan = self._plan(query)
        found: list[list[Track]] = [[] for _ in plan]
        progress = Progress(plan, [0] * len(plan), set())
        open_searches = ends_first(len(plan))
        first = True
        for page in range(max((search.pages for search in plan), default=0)):
            for index in [i for i in open_searches if page < plan[i].pages]:
                try:
                    body = self._page(plan[index].q, page * PAGE_LIMIT, deadline, started if first else None)
                except ProviderError as error:
                    if first:
                        raise
                    self._outcome.shortfall = progress.shortfall(self.search_budget, error)
                    return merged(found, query.limit)
                first = False
                if body is not None:
                    progress.pages[index] += 1
                if body is None or not read_page(body, plan[index].point, found[index]):
                    open_searches.remove(index)
                    if body is not None:
                        progress.exhausted.add(index)
        self._outcome.shortfall = progress.shortfall(self.search_budget, None)
        return merged(found, query.limit)

    def _page(self, q: str, offset: int, deadline: float, first_from: float | None) -> dict[str, Any] | None:
        """A search page from Spotify when there is time for it, else from the cache alone (None:
        not cached). ``first_from``: when the call began, for its first page, which always goes.

        A later page starts only while at least one attempt's timeout is left before ``deadline``,
        and is retried only when the wait and one more attempt still end by then: the budget bounds
        the wait, not only when pages start; a token renewed for it after a 401 is held to it too.

        The first page and a token fetched for it share what the first page alone may take (one
        request's longest time, 17.5 s by default, or the budget if longer): the token's retries
        go only while one page attempt still fits after them, and the page's retries end by then.
        So the first page always goes, and a slow token endpoint (503, 503, 200 at 4.9 s) no longer
        adds its 15.45 s on top of it.
        """
        if first_from is not None:
            page_deadline = first_from + max(self.search_budget, self._client.longest_request)
            token_deadline = page_deadline - self._client.timeout  # its first attempt goes (``always``)
            return self._search_page(q, offset, _Limits(page_deadline, token_deadline, always=True))
        if not self._client.has_time_for_an_attempt(deadline):
            return self._cache.get((q, offset, self.market))
        return self._search_page(q, offset, _Limits(deadline, deadline))

    def videos(self, query: Query) -> list[Video]:
        """Spotify has no videos for us."""
        self._outcome.shortfall = None  # nothing was asked, so nothing went missing
        return []

    def playlists(self, query: Query) -> list[SpotifyPlaylist]:
        """Playlists from the first page of each of the query's searches (cached with the tracks).

        Spotify's search is best at playlists for a mood ("calm acoustic"); their tracks are not
        fetched (playlist items are restricted for development-mode apps), so the engine can show
        them as "open this playlist" links.
        """
        found: list[SpotifyPlaylist] = []
        seen: set[str] = set()
        for search in self._plan(query):
            section = self._search_page(search.q, 0).get("playlists")
            items = section.get("items") if isinstance(section, dict) else None
            for item in items if isinstance(items, list) else []:
                playlist = playlist_from_spotify(item, search.point)  # None for Spotify's `null` entries
                if playlist is not None and playlist.spotify_id not in seen:
                    seen.add(playlist.spotify_id)
                    found.append(playlist)
        return found[: query.limit]

    # --- searches ---

    def _plan(self, query: Query) -> list[Search]:
        """The searches for ``query``: keywords, when given, replace the mood words of each region."""
        if query.keywords:
            cells = [(tuple(query.keywords), mean_point(query.targets), len(query.targets), query.targets)]
        else:
            cells = [(r.words, r.point, r.count, targets_in(query.targets, r.bands)) for r in regions(query.targets)]
        per_search = max(1, self.max_pages // len(cells))
        total = sum(count for _, _, count, _ in cells)
        plans: dict[str, Search] = {}
        for index, (words, point, count, slots) in enumerate(cells):
            q = " ".join(words)
            if query.genres:
                genre = query.genres[index % len(query.genres)].replace('"', "")
                q += f' genre:"{genre}"'
            share = math.ceil(query.limit * count / total)
            pages = min(per_search, math.ceil(share / PAGE_LIMIT))
            if q not in plans:
                plans[q] = Search(q=q, point=point, pages=max(1, pages), targets=tuple(slots))
        return list(plans.values())

    def _search_page(self, q: str, offset: int, limits: _Limits = _Limits()) -> dict[str, Any]:
        """One page (``limit`` = :data:`PAGE_LIMIT`) of tracks and playlists for ``q``, cached.

        Single flight (:func:`fetch_once`): callers missing the same page at once send one search
        between them, not one each against Spotify's rate limit. A caller waits for another's call
        until ``limits.token`` at most, then goes on only as far as what is left allows
        (:meth:`_Limits.after_wait`).
        """
        key = (q, offset, self.market)
        hold = self._client.longest_request  # a fetch that also renews the token may outlast it: harmless
        wait = self._client.wait_allowed(limits.token)
        late = limits.after_wait(self._client.timeout)
        return fetch_once(
            self._cache,
            key,
            lambda: self._fetch_page(q, offset, limits),
            hold=hold,
            wait=wait,
            after_wait=lambda: self._fetch_page(q, offset, late),
        )

    def _fetch_page(self, q: str, offset: int, limits: _Limits) -> dict[str, Any]:
        """One search call for the page, renewing a stale token once."""
        params: dict[str, str | int] = {
            "q": q,
            "type": "track,playlist",
            "market": self.market,
            "limit": PAGE_LIMIT,
            "offset": offset,
        }
        token, limits = self._access_token(limits)
        try:
            body = self._get(SEARCH_URL, params, token, limits)
        except _StaleTokenError:
            # Renewed within the limits the first token left, narrowed if it waited on the lock: with
            # the page's own, the renewal's first attempt went whatever was left (26.6 s into a search
            # whose first page may take 17.5 s).
            token, limits = self._access_token(limits, stale=token)
            try:
                body = self._get(SEARCH_URL, params, token, limits)
            except _StaleTokenError:
                # Both 401s carried no pause (a stale token is worth one more try); two in a row mean
                # the app itself is refused, so it is paused and logged like refused credentials.
                refused = _refused(f"Spotify keeps refusing moodtape's access token: {_CREDENTIALS_HINT}.")
                raise self._client.fail(paused(refused, AUTH_PAUSE)) from None
        return one_page(json_dict(body, _SERVICE))

    def _get(self, url: str, params: Mapping[str, str | int], token: str, limits: _Limits) -> Any:
        """A call with the access ``token``, within ``limits`` (see :meth:`ServiceClient.request`)."""
        deadline = self._client.first_attempt_allowed(limits.call) if limits.always else limits.call
        return self._call(
            "GET",
            url,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            on_error=_search_error,
            deadline=deadline,
        )

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        return self._client.request(method, url, **kwargs)

    # --- the Client Credentials token ---

    def _access_token(self, limits: _Limits, *, stale: str | None = None) -> tuple[str, _Limits]:
        """The cached token, or a new one when it is missing, about to expire or ``stale`` (a 401
        said so), fetched within ``limits.token`` (its first attempt always, for a search's first
        page that did not wait for the lock), and the limits the call keeps to after it (narrowed
        when it waited for the lock).

        A stale token is replaced only while it is still the cached one: another thread may have
        renewed it meanwhile, and that one is used. Dropped under a lock of its own before (which
        dropped such a renewed token too), and that lock's briefest wait narrowed the limits."""
        with self._token_lock_within(limits) as limits:
            if self._token is not None and self._token != stale and self._clock() < self._token_expires_at:
                return self._token, limits
            deadline = self._client.first_attempt_allowed(limits.token) if limits.always else limits.token
            body = json_dict(
                self._call(
                    "POST",
                    TOKEN_URL,
                    data={"grant_type": "client_credentials"},
                    auth=(self._client_id, self._client_secret),
                    on_error=_token_error,
                    deadline=deadline,
                ),
                _SERVICE,
            )
            token, expires_in = body.get("access_token"), body.get("expires_in", 3600)
            if not isinstance(token, str) or not token or not isinstance(expires_in, int | float):
                raise ProviderError("Spotify sent a token reply in an unexpected shape; try again later.")
            # Stored before the call it was fetched for goes: kept for later visitors whatever that call meets.
            self._token = token
            self._token_expires_at = self._clock() + _token_lifetime(float(expires_in))
            return token, limits

    @contextlib.contextmanager
    def _token_lock_within(self, limits: _Limits) -> Iterator[_Limits]:
        """The token lock, waited for until ``limits.token`` at most: another thread holding it may be
        fetching a token slowly (up to 17.5 s), and every page of every search takes the lock, so a
        visitor with 5.1 s of its search left waited that long. Raises :class:`OutOfTimeError` (the
        search keeps what it has and says so) when the lock is still held then. Gives the limits to
        keep to under the lock: after a wait that lasted (:data:`BRIEF_LOCK_WAIT` or more, on the
        provider's clock), :meth:`_Limits.after_wait`'s; a briefer one leaves them as they are."""
        wait = self._client.wait_allowed(limits.token)
        started = self._clock()
        if not self._token_lock.acquire(timeout=-1 if wait is None else max(wait, BRIEF_LOCK_WAIT)):
            raise OutOfTimeError(_SERVICE)
        waited = self._clock() - started >= BRIEF_LOCK_WAIT
        try:
            yield limits.after_wait(self._client.timeout) if waited else limits
        finally:
            self._token_lock.release()


def _token_lifetime(expires_in: float) -> float:
    """Seconds a token said to expire in ``expires_in`` is kept: :data:`TOKEN_MARGIN` less, but at
    least :data:`MIN_TOKEN_LIFETIME` (a nonsense value, ``NaN`` included, gets that too)."""
    lifetime = expires_in - TOKEN_MARGIN
    return lifetime if lifetime > MIN_TOKEN_LIFETIME else MIN_TOKEN_LIFETIME


def _error_message(response: httpx.Response) -> str:
    """Spotify's own words: ``{"error": {"message"}}`` on the Web API, ``error_description`` on accounts."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        return quote_api_message(error.get("message"))
    return quote_api_message(body.get("error_description") or error)


def _refused(detail: str) -> ProviderAuthError:
    """Spotify refused the app itself: only the operator can mend it, so visitors read that Spotify
    is not available here and the log says what to check (``detail``)."""
    return for_operator(ProviderAuthError(not_available_here(_SERVICE)), detail)


def _token_error(response: httpx.Response) -> ProviderError | None:
    if response.status_code in (400, 401):
        message = _error_message(response)
        if response.status_code == 401 or "client" in message.lower():
            return paused(
                _refused(
                    f"Spotify rejected the app's credentials ({message or 'invalid client'}): {_CREDENTIALS_HINT}."
                ),
                AUTH_PAUSE,
            )
        return ProviderError(f"Spotify refused to issue a token (HTTP 400: {message or 'bad request'}).")
    if response.status_code == 403:
        return paused(_refused(f"Spotify refused to issue a token (HTTP 403): {_CREDENTIALS_HINT}."), AUTH_PAUSE)
    return None


def _search_error(response: httpx.Response) -> ProviderError | None:
    status = response.status_code
    if status == 401:
        return _StaleTokenError("Spotify rejected moodtape's access token.")
    if status == 403:
        message = _error_message(response)
        if not message or "premium" in message.lower():
            return paused(
                _refused(
                    "Spotify requires the app owner to have Premium: the account that owns this Spotify app "
                    "needs an active Premium subscription "
                    "(Spotify's rule for development-mode apps since February 2026)."
                ),
                AUTH_PAUSE,
            )
        return paused(
            _refused(f"Spotify refused access (HTTP 403: {message}); check the app in Spotify's developer dashboard."),
            AUTH_PAUSE,
        )
    if status == 400:
        return ProviderError(f"Spotify rejected the search (HTTP 400: {_error_message(response) or 'bad request'}).")
    if 400 < status < 500 and status != 429:
        return ProviderError(f"Spotify refused the search (HTTP {status}).")
    return None
