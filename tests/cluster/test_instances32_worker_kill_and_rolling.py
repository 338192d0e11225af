"""Two instances of ``moodtape serve --processes 2`` behind HAProxy, sharing PostgreSQL and Redis: a
worker killed mid-request, and a rolling restart under one visitor's cookie (a probe of session 32).

Measured: 24 calibration frames sent 8 at a time while one worker of instance ``a`` was SIGKILLed:
the worker answers with ``MOODTAPE_WORKERS`` (4) threads, so it took the frames in flight on it
along (21 to 23 of 24 answered in three runs, each lost one a 502 from the balancer or its closed
connection); gunicorn started a new worker (whose ``/readyz`` may say 503 ``loading`` until its
model is in), and the balancer kept sending to ``a``. A rolling restart of both instances
(``MOODTAPE_DRAIN_SECONDS=2``) under three visitors' steady calibration frames (334 to 370 in three
runs): every one answered and kept, the lists and the CSRF token of the cookie still good.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import threading
import time
from typing import Any

import httpx
import pytest

from cluster_topology import Instance, Topology

pytestmark = pytest.mark.slow

#: Frames sent at once while a worker is killed: enough that some are surely in flight on it. No
#: more than these can be lost: the kill is one moment, and each sender has one frame out at a time.
AT_ONCE = 8

#: Seconds a steady sender waits between frames: three of them stay well under the 30 a second
#: each address may send (``cluster_topology.RATE_LIMIT``), however fast the machine answers.
BETWEEN_FRAMES_S = 0.05


@pytest.fixture(scope="module")
def topology_options() -> dict[str, Any]:
    return {"processes": (2, 2), "MOODTAPE_DRAIN_SECONDS": "2"}


def _workers(instance: Instance) -> list[int]:
    """The worker processes of ``instance``'s gunicorn master."""
    assert instance.process is not None
    found = subprocess.run(["pgrep", "-P", str(instance.process.pid)], capture_output=True, text=True, check=False)
    return [int(pid) for pid in found.stdout.split()]


def _visit(cluster: Topology, sources: list[str]) -> tuple[list[httpx.Client], dict[str, str]]:
    """One visit (one cookie, one token) over clients from ``sources`` (each its own rate-limit window)."""
    clients = [cluster.client(source=source) for source in sources]
    token = {"X-CSRF-Token": clients[0].get("/api/config").json()["csrf_token"]}
    for other in clients[1:]:
        other.cookies = clients[0].cookies
    return clients, token


def _calibrate(client: httpx.Client, token: dict[str, str], face: bytes, emotion: str) -> int | str:
    """One calibration frame: its status, or the name of the error that lost it."""
    try:
        headers = {**token, "Content-Type": "image/jpeg"}
        return client.post(f"/api/calibration?emotion={emotion}", content=face, headers=headers).status_code
    except httpx.HTTPError as error:
        return type(error).__name__


def _examples(client: httpx.Client) -> dict[str, int]:
    reply = client.get("/api/calibration")
    assert reply.status_code == 200, reply.text
    examples: dict[str, int] = reply.json()["examples"]
    return examples


def _lost_on_a_killed_worker(status: int | str) -> bool:
    """A frame the balancer could not deliver: its 502, or the connection's error."""
    return status == 502 or isinstance(status, str)


def _readiness(instance: Instance) -> str:
    """``ready`` (200), ``loading`` (a 503 while a new worker loads its model) or what else came."""
    try:
        reply = httpx.get(f"{instance.url}/readyz", timeout=10)
    except httpx.HTTPError as error:
        return type(error).__name__
    if reply.status_code == 200:
        return "ready"
    if reply.status_code == 503 and reply.json().get("checks", {}).get("model") == "loading":
        return "loading"
    return f"{reply.status_code} {reply.text[:200]}"


def _served_by_both(client: httpx.Client, path: str, timeout: float = 30.0) -> set[str]:
    """The instances that answered ``client``'s GETs of ``path`` until both had (or ``timeout``)."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < 2 and time.monotonic() < deadline:
        reply = client.get(path)
        assert reply.status_code == 200, reply.text
        seen.add(reply.headers.get("X-Served-By", ""))
        time.sleep(0.1)
    return seen


def test_a_killed_worker_loses_only_its_own_requests_and_is_replaced(cluster: Topology, face: bytes) -> None:
    clients, token = _visit(cluster, [f"127.0.0.{110 + n}" for n in range(AT_ONCE)])
    victim_instance = cluster.instances[0]
    victim = _workers(victim_instance)[0]
    readiness: list[str] = []
    with concurrent.futures.ThreadPoolExecutor(AT_ONCE) as pool:
        sent = [pool.submit(_calibrate, clients[n % AT_ONCE], token, face, "happy") for n in range(3 * AT_ONCE)]
        time.sleep(0.3)
        os.kill(victim, signal.SIGKILL)
        statuses = [future.result() for future in sent]
    answered = statuses.count(200)
    lost = [status for status in statuses if status != 200]
    assert all(_lost_on_a_killed_worker(status) for status in lost), statuses
    assert len(lost) <= AT_ONCE, statuses  # only the frames in flight on the worker at the kill
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        readiness.append(_readiness(victim_instance))
        if len(_workers(victim_instance)) == 2 and victim not in _workers(victim_instance):
            break
        time.sleep(0.2)
    # The other worker kept answering; the new one may say it is loading its model, nothing else.
    assert set(readiness) <= {"ready", "loading"}, readiness
    assert victim not in _workers(victim_instance) and len(_workers(victim_instance)) == 2
    cluster.wait_all_serving()  # the balancer still sends to the instance
    kept = _examples(clients[0]).get("happy", 0)
    assert answered <= kept <= len(statuses)  # every answered frame kept; a lost one maybe
    after = [_calibrate(clients[n], token, face, "sad") for n in range(AT_ONCE)]
    assert after == [200] * AT_ONCE


def test_a_rolling_restart_keeps_every_visitors_session(cluster: Topology, face: bytes) -> None:
    clients, token = _visit(cluster, [f"127.0.0.{130 + n}" for n in range(4)])
    first = clients[0]
    assert first.put("/api/history/consent", json={"history": True}, headers=token).status_code == 200
    made = first.post("/api/lists?emotion=sad&n=5&seed=1", headers=token)
    assert made.status_code == 201, made.text
    assert _calibrate(first, token, face, "neutral") == 200
    statuses: list[int | str] = []
    stop = threading.Event()

    def keep_calibrating(client: httpx.Client) -> None:
        while not stop.wait(BETWEEN_FRAMES_S):
            statuses.append(_calibrate(client, token, face, "happy"))

    senders = [threading.Thread(target=keep_calibrating, args=(client,)) for client in clients[1:]]
    for sender in senders:
        sender.start()
    try:
        for instance in cluster.instances:
            instance.stop()
            instance.start()
            instance.wait_ready()
            cluster.wait_all_serving()
    finally:
        stop.set()
        for sender in senders:
            sender.join()
    assert statuses and set(statuses) == {200}, [s for s in statuses if s != 200][:5]
    assert _served_by_both(first, "/api/config") == {"a", "b"}  # the cookie holds on both new instances
    examples = _examples(first)
    assert examples.get("neutral") == 1
    assert examples.get("happy") == len(statuses)  # every answered frame kept across both restarts
    assert first.get(f"/api/lists/{made.json()['list_id']}").status_code == 200
    assert first.post("/api/lists?emotion=happy&n=3", headers=token).status_code == 201  # the token still holds
    for instance in cluster.instances:
        assert "Traceback" not in instance.log(), instance.log()[-3000:]
