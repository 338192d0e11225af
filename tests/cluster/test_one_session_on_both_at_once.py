"""One session's changes arriving at both instances at the same moment: none is lost.

A probe of session 25 (several instances): "not my mood" corrections, calibration frames and new
lists of one visit, sent together from many connections so that HAProxy hands them to both
instances at once, each a read-modify-write of the same Redis document (the session state or the
calibration). Every one must be there afterwards, whichever instance wrote last. Measured: 6
corrections, 8 calibration frames and 6 lists sent at once, 20 of 20 answered and kept.
"""

from __future__ import annotations

import concurrent.futures
import json

import cv2
import httpx
import numpy as np
import numpy.typing as npt
import pytest
import redis

from cluster_topology import Topology

pytestmark = pytest.mark.slow

EMOTIONS = ("happy", "sad", "angry", "neutral", "surprise", "fear")
CORRECTED = {"happy": "sad", "sad": "happy", "angry": "neutral", "neutral": "angry", "surprise": "sad", "fear": "happy"}


def _face_jpeg(astronaut_bgr: npt.NDArray[np.uint8]) -> bytes:
    face = cv2.resize(astronaut_bgr, (360, 360))
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[60:420, 140:500] = face
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return data.tobytes()


def test_changes_of_one_session_on_both_instances_at_once_are_all_kept(
    cluster: Topology, astronaut_bgr: npt.NDArray[np.uint8]
) -> None:
    first = cluster.client(source="127.0.0.91")
    token = {"X-CSRF-Token": first.get("/api/config").json()["csrf_token"]}
    # Connections of one visit from several addresses (each its own rate-limit window).
    visitors = [first] + [cluster.client(source=f"127.0.0.{92 + n}") for n in range(5)]
    for visitor in visitors[1:]:
        visitor.cookies = first.cookies
    jpeg = _face_jpeg(astronaut_bgr)

    def correction(n: int) -> httpx.Response:
        detected = EMOTIONS[n]
        body = {"action": "not_my_mood", "detected": detected, "corrected": CORRECTED[detected]}
        return visitors[n % 6].post("/api/feedback", json=body, headers=token)

    def calibration(n: int) -> httpx.Response:
        headers = {**token, "Content-Type": "image/jpeg"}
        return visitors[(n + 1) % 6].post("/api/calibration?emotion=neutral", content=jpeg, headers=headers)

    def new_list(n: int) -> httpx.Response:
        return visitors[(n + 2) % 6].post(f"/api/lists?emotion={EMOTIONS[n]}&n=5&seed={n}", headers=token)

    jobs = (
        [(correction, n) for n in range(6)] + [(calibration, n) for n in range(8)] + [(new_list, n) for n in range(6)]
    )
    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
        replies = list(pool.map(lambda job: job[0](job[1]), jobs))
    assert [r.status_code for r in replies] == [200] * 6 + [200] * 8 + [201] * 6, [r.text[:200] for r in replies]
    assert {r.headers.get("X-Served-By") for r in replies} == {"a", "b"}

    stored = redis.Redis.from_url(cluster.redis.url)
    sessions = [json.loads(stored.get(key) or b"{}") for key in stored.scan_iter("moodtape:session:*")]
    ours = [s for s in sessions if s.get("corrections")]
    assert len(ours) == 1
    assert ours[0]["corrections"] == CORRECTED  # every correction, whichever instance wrote last
    assert len(ours[0]["lists"]) == 12  # six lists from the corrections, six asked for
    calibrated = first.get("/api/calibration").json()
    assert calibrated["examples"].get("neutral") == 8, calibrated
