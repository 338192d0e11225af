"""``moodtape serve --processes N`` without Redis: a service's pause holds in every worker process.

Each "worker" is a real process forked after the table was made, as gunicorn forks them, and
builds its providers as a worker does (the registry, its own HTTP client on a fake service).
Measured before: after worker 1 met a 429 with ``Retry-After: 120``, worker 2 and worker 3 each
asked the service again (1 more call each, Spotify and Deezer alike), as nothing but worker 1's
own breaker knew of the pause.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from moodtape.config import Settings
from moodtape.errors import ProviderAuthError, ProviderError, ProviderUnreachableError, QuotaExceededError
from moodtape.providers.base import Query
from moodtape.providers.registry import enrichers, live_providers
from moodtape.state.process_pauses import REASON_BYTES, PauseTable
from moodtape.types import Track
from moodtape.web.app import create_app
from moodtape.web.multiprocess import share_state

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX")

CALM = Query(targets=((0.5, 0.2),) * 3, limit=10)
TOKEN = {"access_token": "t", "token_type": "Bearer", "expires_in": 3600}
SONG = Track(title="Song 1", artist="Artist 1", valence=0.5, energy=0.5, deezer_id="1")


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        {
            "MOODTAPE_DATA_DIR": str(tmp_path),
            "SPOTIFY_CLIENT_ID": "client-id-0036",
            "SPOTIFY_CLIENT_SECRET": "client-secret-0036",
        }
    )


def _too_often(request: httpx.Request) -> httpx.Response:
    """Spotify's token, else a 429 asking for two minutes (Spotify's search, Deezer's lookup)."""
    if request.url.host == "accounts.spotify.com":
        return httpx.Response(200, json=TOKEN)
    return httpx.Response(429, headers={"Retry-After": "120"}, json={"error": {"status": 429}})


def _calls_of(http: list[httpx.Request]) -> int:
    return sum(request.url.host != "accounts.spotify.com" for request in http)


def _spotify_worker(settings: Settings, table: PauseTable | None) -> int:
    """One worker's Spotify search: the calls it sent to the service (tokens aside)."""
    sent: list[httpx.Request] = []
    client = httpx.Client(transport=httpx.MockTransport(lambda r: sent.append(r) or _too_often(r)))
    (spotify,) = live_providers(settings, http=client, pauses=table)
    with pytest.raises(QuotaExceededError):
        spotify.tracks(CALM)
    return _calls_of(sent)


def _deezer_worker(settings: Settings, table: PauseTable | None) -> int:
    """One worker's Deezer preview lookup: the calls it sent."""
    sent: list[httpx.Request] = []
    client = httpx.Client(transport=httpx.MockTransport(lambda r: sent.append(r) or _too_often(r)))
    deezer = enrichers(settings, http=client, pauses=table)[0]
    deezer.enrich([SONG])
    assert deezer.last_failure is not None and "Deezer is limiting" in deezer.last_failure
    return _calls_of(sent)


def _in_a_fork(work: Callable[[], Any]) -> Any:
    """``work()``'s result in a process forked now, as gunicorn forks a worker."""
    context = multiprocessing.get_context("fork")
    results = context.SimpleQueue()
    child = context.Process(target=lambda: results.put(work()))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    return results.get()


@pytest.mark.parametrize("worker", [_spotify_worker, _deezer_worker], ids=["spotify", "deezer"])
def test_workers_forked_after_the_table_keep_one_workers_pause(
    tmp_path: Path, worker: Callable[[Settings, PauseTable | None], int]
) -> None:
    settings, table = _settings(tmp_path), PauseTable()
    calls = [_in_a_fork(lambda: worker(settings, table)) for _ in range(3)]
    assert calls == [1, 0, 0]  # before: [1, 1, 1], one 429 met by each worker


def test_serve_with_processes_gives_the_workers_one_table(tmp_path: Path) -> None:
    """``share_state`` (what ``serve --processes 3`` runs before forking) hands the table to the
    services each worker builds; one process keeps its pauses to itself, as before."""
    settings = _settings(tmp_path)
    single = create_app(settings).extensions["moodtape"]
    share_state(create_app(settings), settings, 1)
    assert single.pause_table is None
    app = create_app(settings)
    share_state(app, settings, 3)
    services = app.extensions["moodtape"]
    assert services.pause_table is not None
    services.pause_table.put("Spotify", "Spotify is limiting how often moodtape may ask.", QuotaExceededError, 120)
    spotify = next(p for p in services.recommender().providers if p.name == "spotify")
    with pytest.raises(QuotaExceededError) as raised:  # without a call: no network is reached
        spotify.tracks(CALM)
    assert raised.value.maybe_sent is False
    assert raised.value.retry_after is not None and 110 < raised.value.retry_after <= 120


def _put(table: PauseTable, seconds: float) -> None:
    table.put("Spotify", f"paused {seconds:g} s", QuotaExceededError, seconds)


def test_a_pause_put_in_a_fork_is_read_here_and_a_shorter_one_never_cuts_it() -> None:
    now = [100.0]
    table = PauseTable(clock=lambda: now[0])
    _in_a_fork(lambda: _put(table, 3600))
    _put(table, 10)  # another worker's shorter pause, later
    pause = table.get("spotify")
    assert pause is not None and (pause.reason, pause.kind, pause.seconds) == (
        "paused 3600 s",
        QuotaExceededError,
        3600,
    )
    now[0] += 3600
    assert table.get("Spotify") is None
    _put(table, 10)
    pause = table.get("Spotify")
    assert pause is not None and pause.seconds == 10


@pytest.mark.parametrize("kind", [ProviderUnreachableError, ProviderError])
def test_a_machines_own_trouble_is_not_put_in_the_table(kind: type[ProviderError]) -> None:
    """A connection failure may be this machine's network, a 5xx one request's: not the service's word."""
    table = PauseTable()
    table.put("Spotify", "unreachable", kind, 60)
    assert table.get("Spotify") is None


def test_refused_credentials_keep_their_kind_and_a_long_reason_is_cut_whole() -> None:
    table = PauseTable()
    table.put("YouTube", "é" * REASON_BYTES, ProviderAuthError, 300)
    pause = table.get("YouTube")
    assert pause is not None and pause.kind is ProviderAuthError
    assert pause.reason == "é" * (REASON_BYTES // 2)  # two bytes each: no half character left
    assert table.get("Deezer") is None


def test_more_services_than_slots_take_over_the_pause_that_ends_soonest() -> None:
    table = PauseTable(slots=2)
    table.put("Spotify", "a", QuotaExceededError, 600)
    table.put("Deezer", "b", QuotaExceededError, 60)
    table.put("YouTube", "c", QuotaExceededError, 300)
    assert [table.get(name) is not None for name in ("Spotify", "Deezer", "YouTube")] == [True, False, True]
