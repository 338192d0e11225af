"""An instance stopped with SIGTERM answers the requests that reach it as it stops (session 38).

Two instances behind HAProxy (``tests/cluster_topology.py``, no drain: ``MOODTAPE_DRAIN_SECONDS``
0, the default). The balancer keeps connections to each instance open and sends a request on one
whenever it likes; HAProxy retries a refused connection, never a request already sent. Before, the
stop closed every connection idle at its start, the ones whose next request was on its way too, so
that request got a reset or an end of stream: through HAProxy, 2 of 219, 1 of 147, 3 of 131 and 4
of 335 analyses sent by six keep-alive clients across a SIGTERM of the two-process instance were
answered by a closed connection (the client saw "Server disconnected without sending a response");
now 0 of 277 and 0 of 186. Straight to an instance, a request sent 0.1 s after the SIGTERM on a connection
answered just before it was not answered, by either server (one process, or gunicorn's workers).
"""

from __future__ import annotations

import collections
import signal
import socket
import threading
import time

import httpx
import pytest

from cluster_topology import RATE_LIMIT, Instance, Topology
from services import answer_head

pytestmark = pytest.mark.slow

PACE_PER_SECOND = RATE_LIMIT * 2 // 3

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"


def _start_again(cluster: Topology, instance: Instance) -> None:
    instance.start()
    instance.wait_ready()
    cluster.wait_all_serving()


@pytest.mark.parametrize("name", ["a", "b"])  # a: one process; b: gunicorn's two workers
def test_a_kept_connection_used_as_the_instance_stops_is_answered(cluster: Topology, name: str) -> None:
    instance = next(each for each in cluster.instances if each.name == name)
    assert instance.process is not None
    with socket.create_connection(("127.0.0.1", instance.port), 10) as sock:  # a balancer's pooled connection
        sock.settimeout(10)
        sock.sendall(REQUEST)
        assert answer_head(sock).startswith(b"HTTP/1.1 200")
        instance.process.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        sock.sendall(REQUEST)
        head = answer_head(sock)
    instance.process.wait(30)
    _start_again(cluster, instance)
    assert head.startswith(b"HTTP/1.1 200"), f"instance {name} closed the connection under the request"
    assert b"Connection: close" in head


def test_no_analysis_is_lost_through_the_balancer_while_an_instance_stops(cluster: Topology, face: bytes) -> None:
    outcomes: collections.Counter[str] = collections.Counter()
    done = threading.Event()
    lock = threading.Lock()

    def visitor(source: str) -> None:
        client = cluster.client(source)  # its own address: the rate limit counts each apart
        next_at = time.monotonic()
        while not done.is_set():
            # At most PACE_PER_SECOND from one address, well under the rate limit (not under test
            # here): on a fast machine one visitor sent 30 a second and met it now and then.
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at = time.monotonic() + 1 / PACE_PER_SECOND
            try:
                reply = client.post("/api/analyze?stream=cam1", content=face, headers={"Content-Type": "image/jpeg"})
                outcome = str(reply.status_code)
            except httpx.HTTPError as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            with lock:
                outcomes[outcome] += 1

    visitors = [threading.Thread(target=visitor, args=(f"127.0.38.{i + 1}",)) for i in range(6)]
    for each in visitors:
        each.start()
    time.sleep(2.0)
    gunicorn = cluster.instances[1]
    gunicorn.stop()  # SIGTERM, as a service manager sends it
    time.sleep(1.0)
    done.set()
    for each in visitors:
        each.join(30)
    _start_again(cluster, gunicorn)
    assert outcomes["200"] > 50
    assert set(outcomes) == {"200"}, dict(outcomes)
