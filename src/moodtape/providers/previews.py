"""Keyless enrichers: 30-second previews, artwork and links from Deezer and iTunes Search.

They run after ranking, on the few tracks actually shown, and never break a list: an enricher
that fails returns the tracks unchanged and says why in ``last_failure`` (per thread: request
threads share one enricher), which the engine adds to the list's fallback reasons. After a failure it stops
calling its service for ``cooldown`` seconds (a circuit breaker), so a machine without network
pays one short timeout every few minutes, not one per request. A failure that may be one song's
alone (a 5xx, an unreadable reply, an error in Deezer's body) pauses no one by itself: that song is
not looked up again for 30 s, and the service pauses as Spotify and YouTube do (see
:class:`~moodtape.providers.http.TroubleCounter`). Only missing fields are filled.

Several instances sharing Redis share the answers too, and look a song up once between them
(:func:`moodtape.providers.http.fetch_once`: visitors getting the same list at the same moment
send one call per song, not one each). A Redis that is not answering makes previews uncached for
that list, never a failed list. iTunes' calls a minute are counted for the whole cluster when a
shared window is given (:class:`moodtape.state.windows.RedisCallWindow`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Protocol

import httpx

from moodtape.errors import ProviderError, ProviderUnreachableError, QuotaExceededError
from moodtape.identity import same_song
from moodtape.providers.http import (
    TROUBLE_PAUSE,
    Cache,
    Clock,
    OutOfTimeError,
    Release,
    RetryPolicy,
    ServiceClient,
    SharedPauses,
    Sleep,
    TTLCache,
    fetch_once,
    json_dict,
    one_requests_trouble,
    quote_api_message,
    rate_limited,
    wait_asked,
)
from moodtape.state.connection import SharedStateError
from moodtape.types import Track

log = logging.getLogger(__name__)

DEEZER_TRACK_URL = "https://api.deezer.com/track/{id}"
DEEZER_SEARCH_URL = "https://api.deezer.com/search"
ITUNES_SEARCH_URL = "https://itunes.apple.com/search"
#: Keyless services get one quick retry at most: previews are a nicety, not worth a wait.
PREVIEW_RETRY = RetryPolicy(attempts=2, backoff=0.25, max_wait=1.0)
#: Seconds iTunes' calls are counted in this process after the shared window did not answer.
WINDOW_RETRY_S = 10.0
#: Seconds one :meth:`_PreviewEnricher.enrich` call may spend on its service (``search_budget``), as
#: a Spotify or YouTube search may: no lookup starts once less than one attempt's timeout is left,
#: and another visitor's lookup of the same song is waited for no longer (that wait went on up to
#: 7 s a song: 20 songs another visitor was looking up at 2.9 s each held a list 58 s).
SEARCH_BUDGET = 10.0
_DEEZER_NOT_FOUND = 800  # Deezer's "DataException: no data"
_DEEZER_QUOTA = 4  # Deezer's "QuotaException: Quota limit exceeded"

__all__ = ["DeezerPreviews", "ITunesPreviews", "PreviewInfo", "same_song"]


@dataclass(frozen=True)
class PreviewInfo:
    """What a service knows about one song; all None means "not found" (cached like a hit)."""

    artwork_url: str | None = None
    preview_url: str | None = None
    url: str | None = None
    deezer_id: str | None = None


NOT_FOUND = PreviewInfo()


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _merge(track: Track, info: PreviewInfo) -> Track:
    """``track`` with its missing fields taken from ``info``; what it already has is kept."""
    changes = {
        name: getattr(info, name)
        for name in ("artwork_url", "preview_url", "url", "deezer_id")
        if getattr(track, name) is None and getattr(info, name) is not None
    }
    return dataclasses.replace(track, **changes) if changes else track


class _PreviewEnricher:
    """The loop shared by both enrichers: cache, lookup budget, circuit breaker, ``last_error``."""

    name = "previews"

    def __init__(
        self,
        client: ServiceClient,
        *,
        cache_ttl: float,
        max_lookups: int,
        clock: Clock,
        cache: Cache[PreviewInfo] | None,
        search_budget: float = SEARCH_BUDGET,
    ) -> None:
        self._client = client
        self._cache = cache if cache is not None else TTLCache[PreviewInfo](cache_ttl, 2048, clock, client.service)
        self.max_lookups = max_lookups
        self.search_budget = search_budget
        self._clock = clock
        # Per thread: request threads share one enricher, and each must read its own call's outcome.
        self._outcome = threading.local()
        # The per-minute window and the breaker are shared by every thread, so they are locked.
        self._window_lock = threading.Lock()

    @property
    def last_error(self) -> str | None:
        """Why this thread's last :meth:`enrich` left tracks unfilled (a failure or the lookup budget), or None."""
        return getattr(self._outcome, "error", None)

    @property
    def last_failure(self) -> str | None:
        """Why this thread's last :meth:`enrich` failed (the service erred or is paused), or None.

        The engine adds it to the list's fallback reasons; a lookup budget reached is no failure.
        """
        return getattr(self._outcome, "failure", None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def enrich(self, tracks: list[Track]) -> list[Track]:
        """``tracks`` in the same order, with artwork, preview and links filled where found, within
        :attr:`search_budget` (songs already cached are filled whatever is left of it)."""
        result, failure, skipped, late = self._fill(list(tracks))
        self._outcome.failure = failure
        self._outcome.error = failure or self._left_message(skipped, late)
        return result

    def _fill(self, result: list[Track]) -> tuple[list[Track], str | None, int, int]:
        """The tracks filled, the failure that ended the list, and how many songs were left for
        later: by the lookups allowed, and by the time budget."""
        breaker = self._client.breaker
        if self._client.paused_now():  # by this process, or by another worker or instance
            return result, f"{breaker.reason} Not trying again for {round(breaker.seconds_left())} s.", 0, 0
        cache = _Guarded(self._cache, self._client.service)  # a Redis outage: uncached, not failed
        deadline = self._clock() + self.search_budget
        lookups = skipped = late = 0
        held_back: str | None = None  # why a song was not looked up again (it failed lately)

        def look_up(track: Track) -> PreviewInfo:
            nonlocal lookups
            if not self._client.has_time_for_an_attempt(deadline):  # after a wait; before the window's count
                raise OutOfTimeError(self._client.service)
            if lookups >= self.max_lookups or not self._may_call():
                raise _SkippedError
            lookups += 1
            return self._lookup(track, deadline)

        for index, track in enumerate(result):
            if not self._wanted(track):
                continue
            try:
                info = self._info(cache, self._key(track), functools.partial(look_up, track), deadline)
            except _SkippedError:
                skipped += 1
                continue
            except OutOfTimeError:
                late += 1
                continue
            except ProviderError as error:
                if _held_back(error):  # this song failed lately; it costs no call, the others go on
                    held_back = str(error)
                    continue
                self._pause_after(error)
                return result, str(error), skipped, late
            result[index] = _merge(track, info)
        return result, held_back, skipped, late

    def _info(
        self, cache: Cache[PreviewInfo], key: Hashable, look_up: Callable[[], PreviewInfo], deadline: float
    ) -> PreviewInfo:
        """One song's answer: cached, another visitor's (waited for until ``deadline`` at most: up to
        7 s a song before), or looked up. Once less than one attempt is left, from the cache only,
        as Spotify's pages are (:class:`OutOfTimeError` when it has none)."""
        if not self._client.has_time_for_an_attempt(deadline):
            info = cache.get(key)
            if info is None:
                raise OutOfTimeError(self._client.service)
            return info
        # One lookup per song among every thread and instance missing it at the same moment.
        wait = self._client.wait_allowed(deadline)
        return fetch_once(cache, key, look_up, hold=self._client.longest_request, wait=wait)

    def _pause_after(self, error: ProviderError) -> None:
        """Stop calling the service for ``cooldown`` seconds after ``error``, unless it may be one
        request's fault (a 5xx after the retry, an unreadable reply, an in-body error): that one is
        left to the client's :class:`~moodtape.providers.http.TroubleCounter`, which holds back
        that song's lookup and pauses the service only once several failed, at least half of those
        ended lately, as for Spotify and YouTube. Before, a single 5xx paused previews for everyone
        for 5 minutes.

        Nor does an error raised without a call (``maybe_sent=False``) start a pause: it is the
        pause another thread's failures started meanwhile (a 30 s one became 300 s, and a rate
        limit an outage), or no connection made, which the client paused for ``cooldown`` already.
        Nor one the client paused the service for already (``retry_after``: a 429, for its
        ``Retry-After`` or 60 s): until session 34 that pause became ``cooldown`` too, so a Deezer
        429 that said "try again in a minute" (or "in about 20 min") paused Deezer 300 s.
        """
        if not error.counts_toward_pause and error.maybe_sent and not error.retry_after:
            # A rate limit without Retry-After (Deezer's in-body code 4, iTunes' bare 403) stays
            # one, and is shared like any rate limit; anything else pauses as an outage, here only.
            kind = QuotaExceededError if isinstance(error, QuotaExceededError) else ProviderUnreachableError
            self._client.pause(str(error), kind=kind)

    # --- for subclasses ---

    def _wanted(self, track: Track) -> bool:
        return track.preview_url is None or track.artwork_url is None

    def _key(self, track: Track) -> Hashable:
        return track.key

    def _may_call(self) -> bool:
        return True

    def _skipped_message(self, skipped: int) -> str:
        return f"{self._client.service}: {skipped} track(s) left for later (at most {self.max_lookups} lookups a list)."

    def _left_message(self, skipped: int, late: int) -> str | None:
        """Why songs were left unfilled, or None when none was: time, the lookups allowed, or both
        (only the late songs were named before, when both had left some)."""
        said = []
        if late:
            service = self._client.service
            said.append(
                f"{service} answered slowly: {late} track(s) left for later "
                f"(a list waits at most {self.search_budget:g} s for {service})."
            )
        if skipped:
            said.append(self._skipped_message(skipped))
        return " ".join(said) or None

    def _lookup(self, track: Track, deadline: float) -> PreviewInfo:
        """What the service knows of ``track``, asked in calls that end by ``deadline``."""
        raise NotImplementedError


def _held_back(error: ProviderError) -> bool:
    """Whether ``error`` is a lookup held back unsent because that same lookup failed lately."""
    return error.counts_toward_pause and not error.maybe_sent


class _SkippedError(Exception):
    """A song left unfilled: the list's lookups, or the service's calls a minute, are used up."""


class _Guarded:
    """A preview cache whose outage (Redis not answering) reads as "nothing cached, nobody
    filling": the enricher then calls the service itself for the rest of the list, uncached, and
    pays for Redis's timeout once, not once per song."""

    def __init__(self, cache: Cache[PreviewInfo], service: str) -> None:
        self._cache = cache
        self._service = service
        self.ttl = cache.ttl
        self._down = False

    def _failed(self, error: SharedStateError) -> None:
        if not self._down:
            log.warning(
                "%s previews: their shared cache is not answering; looking up uncached (%s)", self._service, error
            )
        self._down = True

    def get(self, key: Hashable) -> PreviewInfo | None:
        if self._down:
            return None
        try:
            return self._cache.get(key)
        except SharedStateError as error:
            self._failed(error)
            return None

    def set(self, key: Hashable, value: PreviewInfo, ttl: float | None = None) -> None:
        if self._down:
            return
        try:
            self._cache.set(key, value, ttl)
        except SharedStateError as error:
            self._failed(error)

    def claim(self, key: Hashable, seconds: float) -> Release | None:
        if not self._down:
            try:
                return self._cache.claim(key, seconds)
            except SharedStateError as error:
                self._failed(error)
        return _nothing


def _nothing() -> None:
    """The release of a claim that was never taken (the cache is down: every caller fills)."""


class CallWindow(Protocol):
    """Calls a minute counted beyond this process (:class:`moodtape.state.windows.RedisCallWindow`)."""

    def take(self, limit: int, seconds: float) -> bool:
        """Count one call, or False when ``limit`` were made in the last ``seconds``."""
        ...


def _preview_client(
    http: httpx.Client | None,
    service: str,
    timeout: float,
    cooldown: float,
    clock: Clock,
    sleep: Sleep,
    pauses: SharedPauses | None,
) -> ServiceClient:
    """A keyless service's client: short timeout, few retries, a pause after failures (a rate
    limit's shared through ``pauses``, as for Spotify: ``state/pauses.py``)."""
    return ServiceClient(
        http if http is not None else httpx.Client(timeout=timeout),
        service,
        timeout=timeout,
        retry=PREVIEW_RETRY,
        sleep=sleep,
        clock=clock,
        cooldown=cooldown,
        shared_pauses=pauses,
        late_retry_is_late=True,  # a song whose retry the list's time cut off is late, not failed
    )


class DeezerPreviews(_PreviewEnricher):
    """Deezer by track ID (``GET /track/{id}``), or by search for tracks without one.

    Deezer's preview links may be signed and expire, so answers are cached for 10 minutes only.
    Errors arrive as HTTP 200 with ``{"error": {"type", "message", "code"}}``: code 800 ("no
    data") means not found; code 4 means Deezer's rate limit.
    """

    name = "deezer"
    #: The service's name as people read it: in front of its errors and of its failures in the log.
    SERVICE: Final = "Deezer"

    def __init__(
        self,
        http: httpx.Client | None = None,
        *,
        search: bool = True,
        timeout: float = 3.0,
        cache_ttl: float = 600.0,
        max_lookups: int = 20,
        cooldown: float = 300.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        cache: Cache[PreviewInfo] | None = None,
        search_budget: float = SEARCH_BUDGET,
        pauses: SharedPauses | None = None,
    ) -> None:
        client = _preview_client(http, self.SERVICE, timeout, cooldown, clock, sleep, pauses)
        super().__init__(
            client, cache_ttl=cache_ttl, max_lookups=max_lookups, clock=clock, cache=cache, search_budget=search_budget
        )
        self.search = search

    def _wanted(self, track: Track) -> bool:
        has_id = track.deezer_id is not None and track.deezer_id.isdigit()
        return (has_id or self.search) and (track.preview_url is None or track.artwork_url is None)

    def _key(self, track: Track) -> Hashable:
        return ("id", track.deezer_id) if track.deezer_id else ("song", track.key)

    def _lookup(self, track: Track, deadline: float) -> PreviewInfo:
        if track.deezer_id is not None and track.deezer_id.isdigit():
            body = self._get(DEEZER_TRACK_URL.format(id=track.deezer_id), None, deadline)
            return NOT_FOUND if body is None else _deezer_info(body)
        body = self._get(DEEZER_SEARCH_URL, {"q": f"{track.artist} {track.title}"}, deadline)
        data = body.get("data") if body is not None else None
        for item in data if isinstance(data, list) else []:
            if not isinstance(item, dict):
                continue
            artist = item.get("artist")
            name = _text(artist.get("name")) if isinstance(artist, dict) else None
            title = _text(item.get("title"))
            if name and title and same_song(track.artist, track.title, name, title):
                return _deezer_info(item)
        return NOT_FOUND

    def _get(self, url: str, params: dict[str, str | int] | None, deadline: float) -> dict[str, Any] | None:
        """The reply as a dict, None for Deezer's "no data"; other in-body errors raise (see
        :func:`_deezer_error`)."""
        reply = self._client.request("GET", url, params=params, check=_deezer_error, deadline=deadline)
        body = json_dict(reply, self.SERVICE)
        return None if "error" in body else body  # only "no data" passes the check


def _deezer_error(body: object) -> ProviderError | None:
    """The error in a Deezer reply's 200 body, or None for an answer ("no data" included).

    Checked by the client before it counts the reply as an answer: such a reply is one failure
    only. Its quota error pauses previews; any other may be this song's lookup alone ("Wrong
    parameter"), so it counts like a 5xx (:func:`~moodtape.providers.http.one_requests_trouble`).
    """
    error = body.get("error") if isinstance(body, dict) else None
    if error is None:
        return None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    if code == _DEEZER_NOT_FOUND:
        return None
    if code == _DEEZER_QUOTA:
        return QuotaExceededError("Deezer is limiting how often moodtape may ask; previews resume in a few minutes.")
    detail = quote_api_message(error.get("message") or error.get("type") or "unknown error")
    # Held back for that song alone (the other songs are looked up): "previews resume in a few
    # minutes" said before session 34 was true of neither. Should several songs fail so, Deezer
    # pauses for the same TROUBLE_PAUSE, and the list adds "Not trying again for N s".
    return one_requests_trouble(
        ProviderError(
            f"Deezer answered with an error ({detail}); that song's preview is tried again in {TROUBLE_PAUSE} s."
        )
    )


def _deezer_info(item: dict[str, Any]) -> PreviewInfo:
    album = item.get("album")
    raw_id = item.get("id")
    return PreviewInfo(
        artwork_url=_text(album.get("cover_medium")) if isinstance(album, dict) else None,
        preview_url=_text(item.get("preview")),  # "" when Deezer has no preview for the track
        url=_text(item.get("link")),
        deezer_id=str(raw_id) if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None,
    )


class ITunesPreviews(_PreviewEnricher):
    """iTunes Search by "artist title", keeping the first result whose artist and title match.

    Apple allows about 20 calls a minute: beyond ``per_minute`` in the last 60 s the remaining
    tracks are left as they are (no waiting) and ``last_error`` says so. Answers are cached a day.
    With ``window`` (Redis, ``MOODTAPE_REDIS_URL``) the calls are counted once for every instance,
    so N instances behind one address do not ask N times as often; while it is not answering, each
    process counts its own.
    """

    name = "itunes"
    #: The service's name as people read it: in front of its errors and of its failures in the log.
    SERVICE: Final = "iTunes Search"

    def __init__(
        self,
        http: httpx.Client | None = None,
        *,
        country: str = "US",
        per_minute: int = 20,
        search_limit: int = 5,
        timeout: float = 3.0,
        cache_ttl: float = 86400.0,
        max_lookups: int = 10,
        cooldown: float = 300.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        cache: Cache[PreviewInfo] | None = None,
        window: CallWindow | None = None,
        search_budget: float = SEARCH_BUDGET,
        pauses: SharedPauses | None = None,
    ) -> None:
        client = _preview_client(http, self.SERVICE, timeout, cooldown, clock, sleep, pauses)
        super().__init__(
            client, cache_ttl=cache_ttl, max_lookups=max_lookups, clock=clock, cache=cache, search_budget=search_budget
        )
        self.country = country
        self.per_minute = per_minute
        self.search_limit = search_limit
        self._calls: deque[float] = deque()
        self._window = window
        self._window_down_until = 0.0

    def _key(self, track: Track) -> Hashable:
        return (track.key, self.country)

    def _may_call(self) -> bool:
        """A sliding window: at most ``per_minute`` calls in any 60 s, across every thread (and
        every instance, with a shared ``window`` that answers)."""
        if self._window is not None and self._clock() >= self._window_down_until:
            try:
                return self._window.take(self.per_minute, 60.0)
            except SharedStateError as error:
                # Not asked again for a while: a frozen Redis costs its timeout once, not once a song.
                self._window_down_until = self._clock() + WINDOW_RETRY_S
                log.info("iTunes Search: the shared window is not answering, counting in this process (%s)", error)
        with self._window_lock:
            now = self._clock()
            while self._calls and now - self._calls[0] >= 60.0:
                self._calls.popleft()
            if len(self._calls) >= self.per_minute:
                return False
            self._calls.append(now)
            return True

    def _skipped_message(self, skipped: int) -> str:
        return (
            f"iTunes Search: {skipped} track(s) left for later (moodtape asks Apple at most "
            f"{self.per_minute} times a minute and {self.max_lookups} times a list)."
        )

    def _lookup(self, track: Track, deadline: float) -> PreviewInfo:
        params: dict[str, str | int] = {
            "term": f"{track.artist} {track.title}",
            "media": "music",
            "entity": "song",
            "limit": self.search_limit,
            "country": self.country,
        }
        body = json_dict(
            self._client.request("GET", ITUNES_SEARCH_URL, params=params, on_error=_itunes_error, deadline=deadline),
            self.SERVICE,
        )
        return _pick_itunes(track, body.get("results"))


def _itunes_error(response: httpx.Response) -> ProviderError | None:
    """403 and 429 read as "too often" (a keyless API has no key to refuse), and not retried.

    With a ``Retry-After`` (:func:`~moodtape.providers.http.wait_asked`), iTunes pauses that long
    and says so, as Deezer does (at most 1 h); before session 35 it paused the enricher's 300 s
    whatever the reply asked ("previews resume in a few minutes" of a ``Retry-After: 10``, and
    300 s of a ``Retry-After: 1200``). Without one, the enricher's cooldown as before (5 minutes,
    which "previews resume in a few minutes" says), not Deezer's 60 s: moodtape keeps under Apple's
    20 calls a minute itself, so a refusal means others share the address or Apple asks for less.
    """
    if response.status_code not in (403, 429):
        return None
    asked = wait_asked(response)
    if asked is not None:
        return rate_limited(ITunesPreviews.SERVICE, asked)
    return QuotaExceededError("iTunes Search is limiting how often moodtape may ask; previews resume in a few minutes.")


def _pick_itunes(track: Track, results: object) -> PreviewInfo:
    candidates: Iterable[object] = results if isinstance(results, list) else []
    for item in candidates:
        if not isinstance(item, dict):
            continue
        artist, title = _text(item.get("artistName")), _text(item.get("trackName"))
        if artist and title and same_song(track.artist, track.title, artist, title):
            return PreviewInfo(
                artwork_url=_text(item.get("artworkUrl100")),
                preview_url=_text(item.get("previewUrl")),
                url=_text(item.get("trackViewUrl")),
            )
    return NOT_FOUND
