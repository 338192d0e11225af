"""The web app under many threads at once: results equal to one-at-a-time, per session and per stream.

Shared objects the request threads touch (the analyzer, the stream registry, the rate limiter, the
session memory, the enrichers' windows) must be locked or per-thread; a race shows up here as a
wrong or mixed-up result, not only as a 500.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from webtools import AppFactory

THREADS = 12
ROUNDS = 6


def _lists(client: Any, seed: int) -> list[str]:
    reply = client.get(f"/api/recommendations?emotion=sad&n=5&seed={seed}")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return [item["title"] for item in reply.get_json()["items"]]


def test_many_threads_get_the_same_answers_as_one(make_app: AppFactory, frame_640: bytes) -> None:
    app: Flask = make_app(MOODTAPE_RATE_LIMIT="0")
    solo = app.test_client()
    expected_faces = solo.post("/api/analyze", data=frame_640, content_type="image/jpeg").get_json()["faces"]
    expected_lists = {seed: _lists(solo, seed) for seed in range(4)}
    start = threading.Barrier(THREADS)

    def worker(number: int) -> list[str]:
        client = app.test_client()  # its own session
        start.wait()
        problems = []
        for round_ in range(ROUNDS):
            stream = f"s{number}"
            reply = client.post(f"/api/analyze?stream={stream}", data=frame_640, content_type="image/jpeg")
            body = reply.get_json()
            if reply.status_code != 200 or body["stream"] != stream:
                problems.append(f"analyze {reply.status_code}")
            elif round_ == 0 and [f["box"] for f in body["faces"]] != [f["box"] for f in expected_faces]:
                problems.append("boxes differ")
            seed = (number + round_) % 4
            if _lists(client, seed) != expected_lists[seed]:
                problems.append(f"list for seed {seed} differs")
            csrf = {"X-CSRF-Token": client.get("/api/config").get_json()["csrf_token"]}
            if client.delete("/api/history?confirm=true", headers=csrf).status_code != 200:
                problems.append("history delete failed")
        return problems

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(worker, range(THREADS)))
    assert results == [[] for _ in range(THREADS)]
