"""A Redis that stops answering is named one way, wherever it is seen; other outages keep their own words.

Before: with Redis stopped (SIGSTOP), ``/readyz`` on instances side by side said "Redis did not answer
within 1 s" (its own bound), "… is not answering (TimeoutError); retry …" (the ping's timeout) or "…
timed out or was slow to answer a moment ago, and is not asked again …" (the breaker the timeout
opened), whichever each met first, so an operator comparing them saw three reasons for one outage.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest
import redis
from webtools import AppFactory

from moodtape.state.breaker import BreakerOpen, breaker_for
from moodtape.state.connection import SharedStateError, connect, no_answer_in_time, redis_errors
from redis_server import redis_of_its_own
from services import free_port

POLLS = 5  # past the readiness bound, the ping's own timeout and the breaker's open second


def _refusal(client: redis.Redis) -> str:
    """What a request that needs Redis is told now."""
    with pytest.raises(SharedStateError) as refused, redis_errors(client):
        client.get("moodtape:probe")
    return str(refused.value)


def test_a_stopped_redis_is_told_alike_by_readiness_timeout_and_breaker(make_app: AppFactory, tmp_path: Path) -> None:
    with redis_of_its_own(tmp_path / "redis") as server:
        app = make_app(MOODTAPE_REDIS_URL=server.url)
        web = app.test_client()
        assert web.get("/readyz").get_json()["checks"]["redis"] == "ok"
        client = app.extensions["moodtape"].redis
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            said = {web.get("/readyz").get_json()["checks"]["redis"] for _ in range(POLLS)}
            said.add(_refusal(client))  # the call that times out, or the breaker it opened
            said.add(_refusal(client))
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
    where = f"Redis at 127.0.0.1:{server.port}"
    assert said == {f"the shared state ({where}) did not answer within 1 s; {_hint()}"}, said


def _hint() -> str:
    return "retry in a few seconds, and check MOODTAPE_REDIS_URL if it lasts"


def test_a_refused_connection_keeps_its_own_words() -> None:
    """Nothing listens at the port: a refusal at once, not a Redis that is silent."""
    said = _refusal(connect(f"redis://127.0.0.1:{free_port()}/0"))
    assert "did not answer within" not in said and "ConnectionError" in said, said


def test_a_breaker_opened_by_slow_answers_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slow but answered (three in a row past the bound) is not "did not answer"."""
    client = connect(f"redis://127.0.0.1:{free_port()}/0")
    breaker = breaker_for(client)
    monkeypatch.setattr(breaker, "slow_s", 0.001)
    for _ in range(breaker.slow_calls):  # slow but answered, back to back, as the rate limit's calls are
        with contextlib.suppress(BreakerOpen), breaker.call(timeout_opens=False):
            time.sleep(0.01)
    assert breaker.is_open
    said = _refusal(client)
    assert said.startswith("the shared state (Redis at 127.0.0.1:") and "answered slower than 1 ms 3 times" in said
    assert "did not answer" not in said, said
    assert breaker.opened_by_timeout is False


def test_the_wording_names_the_redis_and_the_bound() -> None:
    client = connect("redis://10.0.0.7:6380/2")
    assert (
        no_answer_in_time(client, 2)
        == f"the shared state (Redis at 10.0.0.7:6380) did not answer within 2 s; {_hint()}"
    )
