"""Through the balancer: while Redis or the database is down, every 503 says when to try again.

Before, the 503s of an outage (``shared_state_unavailable``, ``store_unavailable``) carried no
``Retry-After``: a client learned nothing of when to ask again, though a restart takes seconds
and the instances reconnect by themselves. Only the balancer's own 503 and a busy database's
said it. A topology of its own (``tests/cluster_topology.py``), since these tests stop its services.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from cluster_topology import Topology

pytestmark = pytest.mark.slow


def _session(cluster: Topology, source: str, *, history: bool) -> tuple[httpx.Client, dict[str, str]]:
    """A client with a session (its lists in the database with ``history``, else in Redis)."""
    client = cluster.client(source=source)
    headers = {"X-CSRF-Token": client.get("/api/config").json()["csrf_token"]}
    reply = client.put("/api/history/consent", json={"history": history}, headers=headers)
    assert reply.status_code == 200
    return client, headers


def _outage_answers(send: Callable[[], httpx.Response], count: int = 6) -> list[httpx.Response]:
    answers = []
    for _ in range(count):
        answers.append(send())
        time.sleep(0.1)
    return answers


def _assert_retry_after(answers: list[httpx.Response], code: str) -> None:
    assert [reply.status_code for reply in answers] == [503] * len(answers)
    for reply in answers:
        assert reply.headers["Content-Type"].startswith("application/json")
        assert reply.json()["error"]["code"] == code
        assert reply.headers.get("Retry-After") == "1", (reply.headers.get("X-Served-By"), dict(reply.headers))


def _until_it_works(send: Callable[[], httpx.Response], status: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and send().status_code != status:
        time.sleep(0.3)
    assert send().status_code == status


def test_a_redis_outage_answers_503s_that_say_when_to_retry(cluster: Topology) -> None:
    client, headers = _session(cluster, "127.0.5.1", history=False)
    make_list = lambda: client.post("/api/lists?emotion=sad&n=3&fresh=true", headers=headers)  # noqa: E731
    assert make_list().status_code == 201
    cluster.redis.stop()
    try:
        _assert_retry_after(_outage_answers(make_list), "shared_state_unavailable")
        _assert_retry_after(_outage_answers(lambda: client.get("/api/calibration")), "shared_state_unavailable")
    finally:
        cluster.redis.start()
    _until_it_works(make_list, 201)
    cluster.wait_all_serving()


def test_a_database_outage_answers_503s_that_say_when_to_retry(cluster: Topology) -> None:
    if cluster.postgres is None:
        pytest.skip("PostgreSQL is not installed; the instances share a SQLite file, which cannot be stopped")
    client, headers = _session(cluster, "127.0.5.2", history=True)
    make_list = lambda: client.post("/api/lists?emotion=sad&n=3&fresh=true", headers=headers)  # noqa: E731
    assert make_list().status_code == 201
    cluster.postgres.stop()
    try:
        _assert_retry_after(_outage_answers(make_list), "store_unavailable")
        _assert_retry_after(_outage_answers(lambda: client.get("/api/history")), "store_unavailable")
    finally:
        cluster.postgres.start()
    _until_it_works(make_list, 201)
    cluster.wait_all_serving()
