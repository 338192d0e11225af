"""Building the live providers and enrichers the settings ask for.

Call these once per process (the web app's ``create_app``, a CLI command) and keep the result:
the caches, tokens, search budget and circuit breakers live in the objects they return.

- ``MOODTAPE_OFFLINE=true``: nothing live at all, not even previews.
- Spotify only when both ``SPOTIFY_CLIENT_ID`` and ``SPOTIFY_CLIENT_SECRET`` are set; YouTube only
  when ``YOUTUBE_API_KEY`` is. Its search count is kept in ``MOODTAPE_DATA_DIR`` so that the
  workers of one machine share the day's budget.
- With ``MOODTAPE_REDIS_URL`` the answer caches, YouTube's daily search count and the services'
  pauses (after a 429 or refused credentials) live in Redis, shared by every instance (one budget
  for all, not one each; Spotify's and YouTube's pauses by the instances with the same
  credentials); without it, in each process (and the search count in a file in
  ``MOODTAPE_DATA_DIR``). ``pauses`` (``serve --processes N``'s table in shared memory) shares the
  pauses between the workers of one instance, with Redis or without.
- Keyless previews (Deezer, iTunes) when ``MOODTAPE_PREVIEWS`` is true, the default: with a short
  timeout (at most 3 s) and a five-minute pause after a failure, an offline machine pays one short
  wait every five minutes, while an online one gets artwork and previews with no setup.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from moodtape.config import Settings
from moodtape.providers.base import Enricher, Provider
from moodtape.providers.budget import BudgetStore, FileBudgetStore
from moodtape.providers.http import SharedPauses
from moodtape.providers.previews import DeezerPreviews, ITunesPreviews, PreviewInfo
from moodtape.providers.spotify import SpotifyProvider
from moodtape.providers.youtube import YouTubeProvider
from moodtape.state.cache import RedisCache
from moodtape.state.connection import client_for
from moodtape.state.pauses import RedisPauses, credentials_fingerprint, shared_pauses
from moodtape.state.process_pauses import PauseTable
from moodtape.state.windows import RedisCallWindow

#: Keyless previews wait at most this long per call, whatever MOODTAPE_HTTP_TIMEOUT says.
PREVIEW_TIMEOUT = 3.0
BUDGET_FILE = "youtube-search-budget.json"
SAFE_SEARCH = ("none", "moderate", "strict")


def _client(http: httpx.Client | None, timeout: float) -> httpx.Client:
    return http if http is not None else httpx.Client(timeout=timeout, headers={"User-Agent": "moodtape"})


def _pauses(redis: Any, table: PauseTable | None, *credentials: str) -> SharedPauses | None:
    """Where a service's pauses are shared: ``table`` (the workers of this instance) and Redis (the
    instances holding the same ``credentials``; every instance for a keyless service)."""
    far = RedisPauses(redis, credentials_fingerprint(*credentials) if credentials else "") if redis else None
    return shared_pauses(table, far)


def live_providers(
    settings: Settings, http: httpx.Client | None = None, *, pauses: PauseTable | None = None
) -> list[Provider]:
    """Spotify and/or YouTube, each only when its keys are set; ``[]`` when offline. ``pauses``:
    the table ``serve --processes N``'s workers share their services' pauses in."""
    if settings.get_bool("MOODTAPE_OFFLINE"):
        return []
    timeout = settings.get_float("MOODTAPE_HTTP_TIMEOUT")
    ttl = settings.get_float("MOODTAPE_CACHE_TTL")
    redis = client_for(settings.get("MOODTAPE_REDIS_URL"))
    providers: list[Provider] = []
    client_id, secret = settings.get("SPOTIFY_CLIENT_ID").strip(), settings.get("SPOTIFY_CLIENT_SECRET").strip()
    if client_id and secret:
        providers.append(
            SpotifyProvider(
                client_id,
                secret,
                market=settings.get("SPOTIFY_MARKET").strip() or "US",
                http=_client(http, timeout),
                cache_ttl=ttl,
                timeout=timeout,
                cache=RedisCache[dict[str, Any]](redis, "spotify", ttl) if redis else None,
                # Shared only with the instances holding the same credentials: one instance's
                # revoked or mistyped secret says nothing of the others' (a rotation, a typo).
                pauses=_pauses(redis, pauses, client_id, secret),
            )
        )
    api_key = settings.get("YOUTUBE_API_KEY").strip()
    if api_key:
        safe_search = settings.get("YOUTUBE_SAFE_SEARCH").strip().lower() or "moderate"
        if safe_search not in SAFE_SEARCH:
            raise ValueError(f"YOUTUBE_SAFE_SEARCH must be none, moderate or strict, got {safe_search!r}")
        from moodtape.store import data_dir

        quota_clock = None  # one machine's workers share its clock
        if redis:
            from moodtape.state.budget import RedisBudgetStore

            shared = RedisBudgetStore(redis)
            budget: BudgetStore = shared
            quota_clock = shared.clock  # every instance names the quota day by Redis's clock
        else:
            budget = FileBudgetStore(data_dir(settings) / BUDGET_FILE)
        providers.append(
            YouTubeProvider(
                api_key,
                region=settings.get("YOUTUBE_REGION").strip() or "US",
                safe_search=safe_search,
                daily_search_budget=settings.get_int("YOUTUBE_DAILY_SEARCH_BUDGET"),
                http=_client(http, timeout),
                budget_store=budget,
                quota_clock=quota_clock,
                cache_ttl=ttl,
                timeout=timeout,
                cache=RedisCache[list[Any]](redis, "youtube", ttl) if redis else None,
                pauses=_pauses(redis, pauses, api_key),
            )
        )
    return providers


def enrichers(
    settings: Settings, http: httpx.Client | None = None, *, pauses: PauseTable | None = None
) -> list[Enricher]:
    """Deezer then iTunes previews, unless offline or ``MOODTAPE_PREVIEWS`` is false; ``pauses`` as
    for :func:`live_providers`."""
    if settings.get_bool("MOODTAPE_OFFLINE") or not settings.get_bool("MOODTAPE_PREVIEWS"):
        return []
    timeout = min(PREVIEW_TIMEOUT, settings.get_float("MOODTAPE_HTTP_TIMEOUT"))
    client = _client(http, timeout)
    country = settings.get("SPOTIFY_MARKET").strip() or "US"
    redis = client_for(settings.get("MOODTAPE_REDIS_URL"))
    if redis is None:
        return [
            DeezerPreviews(client, timeout=timeout, pauses=pauses),
            ITunesPreviews(client, country=country, timeout=timeout, pauses=pauses),
        ]
    # The same lifetimes as the enrichers' own defaults: Deezer's preview links expire, iTunes' do not soon.
    return [
        DeezerPreviews(
            client, timeout=timeout, cache=_preview_cache(redis, "deezer", 600.0), pauses=_pauses(redis, pauses)
        ),
        ITunesPreviews(
            client,
            country=country,
            timeout=timeout,
            cache=_preview_cache(redis, "itunes", 86400.0),
            window=RedisCallWindow(redis, "itunes"),  # Apple's calls a minute, for every instance at once
            pauses=_pauses(redis, pauses),  # keyless: its limit counts by address, as the window above
        ),
    ]


def _preview_cache(redis: Any, name: str, ttl: float) -> RedisCache[PreviewInfo]:
    return RedisCache(redis, name, ttl, encode=dataclasses.asdict, decode=lambda d: PreviewInfo(**d))
