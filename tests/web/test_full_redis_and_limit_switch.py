"""A Redis at its ``maxmemory``, as readiness names it, and the rate limit's switch to local counting.

- Full (``noeviction``, writes refused), ``/readyz`` said ``"redis": "ok"``, and ``secret_key`` and
  ``emotion_model`` both said ``the shared state (Redis at …) refused the request (OutOfMemoryError)
  …``: the instance's fingerprints are readiness's only writes. Now ``checks.redis`` says Redis is
  full, the check whose write was refused is left out (one made before it stays), and the status
  stays a 200 ``degraded`` (every instance shares that Redis, so every one is equally full;
  web/ops.py). Redis before 7.0 reports a script's refused write as a plain ``ResponseError``; that
  is told as full too (state/connection.py).
- When Redis went away, the per-process count started from zero: a client that had used its whole
  window in Redis got a whole window more at the switch. Now the process's own hits of the window are
  carried over (web/ratelimit.py), from a plain copy that starts no thread: kept in limits'
  ``MemoryStorage`` instead, every request counted in Redis started a timer thread about every 10 ms
  that went over every key (+40 % CPU at 20,000 client addresses).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import limits.storage.memory
import pytest
import redis
from limits.storage import MemoryStorage
from webtools import AppFactory

from moodtape.state import connection
from moodtape.state.connection import SharedStateError, SharedStateFullError, client_for, redis_errors
from moodtape.web import ops, ratelimit
from moodtape.web.ratelimit import SCHEME_PREFIX, SharedOrLocalStorage
from redis_server import redis_of_its_own


@pytest.fixture
def still_clocks(still_limiter_clock: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-memory limiter's clock stopped mid-window, and the copy of Redis's hits on the same one."""
    monkeypatch.setattr(ratelimit, "time", limits.storage.memory.time)


def test_readiness_names_a_full_redis_under_redis_and_stays_degraded(make_app: AppFactory, tmp_path: Path) -> None:
    with redis_of_its_own(tmp_path / "redis") as server:
        client = make_app(MOODTAPE_REDIS_URL=server.url).test_client()
        assert client.get("/readyz").get_json()["status"] == "ready"
        server.fill_to_maxmemory()
        ready = client.get("/readyz")
        checks = ready.get_json()["checks"]
        assert ready.status_code == 200 and ready.get_json()["status"] == "degraded"
        assert checks["redis"].startswith("full: Redis reached its maxmemory")
        assert "policy noeviction" in checks["redis"]
        assert "secret_key" not in checks  # not checked (its write was refused), not "failing"
        assert client.get("/readyz?strict=true").status_code == 503
        redis.Redis.from_url(server.url).config_set("maxmemory", "0")  # room again
        assert client.get("/readyz").get_json()["status"] == "ready"


def test_a_request_meeting_a_full_redis_is_told_so(tmp_path: Path) -> None:
    with redis_of_its_own(tmp_path / "redis") as server:
        server.fill_to_maxmemory()
        shared = client_for(server.url)
        assert shared is not None
        with pytest.raises(SharedStateFullError, match="is full") as refused, redis_errors(shared):
            shared.set("moodtape:session:x", b"{}")
        assert refused.value.status == 503 and refused.value.retry_after == 1


@pytest.mark.usefixtures("still_clocks")
def test_counting_locally_goes_on_from_the_hits_redis_counted(tmp_path: Path) -> None:
    with redis_of_its_own(tmp_path / "redis") as server:
        storage = SharedOrLocalStorage(SCHEME_PREFIX + server.url, socket_timeout=0.25)
        assert [storage.acquire_sliding_window_entry("visitor", 3, 60) for _ in range(3)] == [True] * 3
        server.stop()  # Redis gone: counted in this process from now on
        assert not storage.acquire_sliding_window_entry("visitor", 3, 60)  # before: True, a fourth hit
        assert storage.acquire_sliding_window_entry("someone-else", 3, 60)


@pytest.mark.usefixtures("still_clocks")
def test_a_client_gets_no_extra_requests_when_redis_goes_away(make_app: AppFactory, tmp_path: Path) -> None:
    with redis_of_its_own(tmp_path / "redis") as server:
        visitor = make_app(MOODTAPE_RATE_LIMIT="3", MOODTAPE_REDIS_URL=server.url).test_client()
        before = [visitor.get("/api/openapi.yaml").status_code for _ in range(3)]
        server.stop()
        after = [visitor.get("/api/openapi.yaml").status_code for _ in range(3)]
        assert before == [200] * 3
        assert after == [429] * 3  # before: [200, 200, 200], a whole window more


def test_counting_in_redis_starts_no_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: limits' MemoryStorage, counted into on every hit, started a timer thread each 10 ms."""
    with redis_of_its_own(tmp_path / "redis") as server:
        storage = SharedOrLocalStorage(SCHEME_PREFIX + server.url, socket_timeout=0.25)
        time.sleep(0.05)  # the timer MemoryStorage starts when it is made has run out
        started: list[threading.Thread] = []
        start = threading.Thread.start

        def counted_start(thread: threading.Thread) -> None:
            started.append(thread)
            start(thread)

        monkeypatch.setattr(threading.Thread, "start", counted_start)
        for n in range(30):
            assert storage.acquire_sliding_window_entry(f"visitor-{n}", 5, 1)
            time.sleep(0.002)
        assert started == []


def _at(monkeypatch: pytest.MonkeyPatch, instant: float) -> None:
    clock = SimpleNamespace(time=lambda: instant)
    monkeypatch.setattr(ratelimit, "time", clock)
    monkeypatch.setattr(limits.storage.memory, "time", clock)


def test_hits_of_the_previous_window_are_weighed_at_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    recent, local = ratelimit.RecentHits(), MemoryStorage()
    _at(monkeypatch, 1_800_000_000.0)  # a window of 10 s begins
    for _ in range(4):
        recent.add("visitor", 10, 1)
    _at(monkeypatch, 1_800_000_012.5)  # the next one, a quarter in: 3/4 of the 4 still weigh
    recent.add("visitor", 10, 1)
    recent.load_into(local)
    assert local.get_sliding_window("visitor", 10)[0::2] == (4, 1)  # previous, current
    assert not local.acquire_sliding_window_entry("visitor", 4, 10)  # 3 + 1 + 1 > 4
    assert local.acquire_sliding_window_entry("visitor", 5, 10)


def test_a_window_long_gone_is_dropped_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    recent, local = ratelimit.RecentHits(), MemoryStorage()
    _at(monkeypatch, 1_800_000_000.0)
    recent.add("visitor", 10, 3)
    _at(monkeypatch, 1_800_000_025.0)  # two windows later
    recent.add("someone-else", 10, 1)
    recent.load_into(local)
    assert local.get_sliding_window("visitor", 10)[0::2] == (0, 0)
    assert local.get_sliding_window("someone-else", 10)[0::2] == (0, 1)


def test_the_copy_keeps_a_bounded_number_of_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    recent, local = ratelimit.RecentHits(kept=2), MemoryStorage()
    _at(monkeypatch, 1_800_000_000.0)
    for name in ("a", "b", "c", "a"):
        recent.add(name, 10, 1)
    recent.load_into(local)
    assert [local.get_sliding_window(name, 10)[2] for name in ("a", "b", "c")] == [2, 1, 0]
    local.reset()
    recent.load_into(local)  # loaded once: forgotten
    assert local.get_sliding_window("a", 10)[2] == 0


class _Pool:
    connection_kwargs = {"host": "redis.internal", "port": 6379}  # noqa: RUF012 (redis-py's shape)


class _ScriptMetAFullRedis:
    """A client whose script met a full Redis before 7.0: a plain ResponseError, not OutOfMemoryError."""

    connection_pool = _Pool()

    def eval(self, *_: object) -> None:
        raise redis.ResponseError(
            "Error running script (call to f_5c8e0a0f): @user_script:3: @user_script: 3: "
            "-OOM command not allowed when used memory > 'maxmemory'."
        )


def test_a_script_refused_by_a_full_redis_6_is_told_as_full() -> None:
    client = _ScriptMetAFullRedis()
    with pytest.raises(SharedStateFullError, match="is full"), redis_errors(client):  # type: ignore[arg-type]
        client.eval("return 1", 0)


def test_another_refusal_is_not_told_as_full() -> None:
    client = _ScriptMetAFullRedis()
    with pytest.raises(SharedStateError, match="refused the request") as refused, redis_errors(client):  # type: ignore[arg-type]
        raise redis.ResponseError(
            "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist"
        )
    assert not isinstance(refused.value, SharedStateFullError)


def _readiness_of_redis(
    monkeypatch: pytest.MonkeyPatch, key: Callable[[object], None], model: Callable[[object], None]
) -> dict[str, str]:
    """Readiness's Redis checks with the two fingerprint checks given, Redis itself answering."""
    monkeypatch.setattr(connection, "ping", lambda _client: None)
    monkeypatch.setattr(ops, "_same_key_everywhere", key)
    monkeypatch.setattr(ops, "_same_model_everywhere", model)
    monkeypatch.setattr(ops, "_full", lambda _client: "full: Redis reached its maxmemory")
    monkeypatch.setattr(ops, "_note_release", lambda _client: None)  # needs an app; not under test here
    flight = ops._Flight("redis")
    ops._redis_checks(flight, object(), model_ready=True)
    return flight.checks


def _refused(_client: object) -> None:
    raise SharedStateFullError("the shared state is full")


def test_a_full_redis_met_by_the_model_check_keeps_the_secret_key_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    checks = _readiness_of_redis(monkeypatch, key=lambda _client: None, model=_refused)
    # Before: {"redis": "full: …"}, the secret key's "ok" dropped though it had been checked.
    assert checks == {"redis": "full: Redis reached its maxmemory", "secret_key": "ok"}


def test_a_full_redis_met_by_the_secret_key_check_leaves_both_out(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    checks = _readiness_of_redis(monkeypatch, key=_refused, model=lambda _client: asked.append("model"))
    assert checks == {"redis": "full: Redis reached its maxmemory"}
    assert asked == []  # its write would be refused as well
