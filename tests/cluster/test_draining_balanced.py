"""A SIGTERM of one instance behind HAProxy without retries loses no request (``MOODTAPE_DRAIN_SECONDS``).

HAProxy learns that an instance is going only from its checks of ``/readyz`` (here every 0.5 s,
down after 2 failures). Before the drain, the instance closed its port at the SIGTERM, and every
request the balancer sent it until then failed: with retries off, a 503 from HAProxy each.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from cluster_topology import Instance, Topology

pytestmark = pytest.mark.slow

#: Longer than the balancer's check interval × fall count (0.5 s × 2), with room for a busy machine.
DRAIN_SECONDS = 3


@pytest.fixture(scope="module")
def topology_options() -> dict[str, Any]:
    """No retries at the balancer (a request sent to a closed port is lost), and a drain window."""
    return {"balancer_retries": False, "MOODTAPE_DRAIN_SECONDS": str(DRAIN_SECONDS)}


class _Stream:
    """Requests through the balancer, one every 20 ms, in a thread, until :meth:`end`; every answer kept."""

    def __init__(self, cluster: Topology) -> None:
        self._client = cluster.client()
        self._done = threading.Event()
        self.answers: list[tuple[int, str]] = []  # status (0: no answer) and the instance that answered
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        turn = 0
        while not self._done.is_set():
            turn += 1
            # Mostly /healthz (never rate-limited), every fifth an API call through the whole app.
            path = "/api/config" if turn % 5 == 0 else "/healthz"
            try:
                reply = self._client.get(path)
                self.answers.append((reply.status_code, reply.headers.get("X-Served-By", "")))
            except httpx.HTTPError as exc:
                self.answers.append((0, type(exc).__name__))
            time.sleep(0.02)

    def end(self) -> list[tuple[int, str]]:
        self._done.set()
        self._thread.join(30)
        return self.answers


@pytest.mark.parametrize("name", ["a", "b"], ids=["one-process", "gunicorn"])
def test_a_stream_across_a_sigterm_of_one_instance_loses_nothing(cluster: Topology, name: str) -> None:
    instance: Instance = next(each for each in cluster.instances if each.name == name)
    process = instance.process
    assert process is not None
    stream = _Stream(cluster)
    try:
        time.sleep(1)
        process.terminate()  # SIGTERM to the server (a gunicorn master), as docker stop sends it
        process.wait(DRAIN_SECONDS + 15)
        time.sleep(1)  # the survivor alone, after the port has closed
    finally:
        answers = stream.end()
        instance.kill()  # only if it still runs
        instance.start()  # whole again for the next test
        instance.wait_ready()
        cluster.wait_all_serving()
    lost = [answer for answer in answers if answer[0] != 200]
    assert not lost, f"{len(lost)} of {len(answers)} requests lost: {lost[:10]}"
    assert len(answers) > 100
    served_by_stopped = [who for _, who in answers if who == name]
    assert served_by_stopped, "the stopped instance answered nothing: the stream did not cross the SIGTERM"
    assert process.returncode == 0, instance.log()[-3000:]
