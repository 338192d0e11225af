"""The turned search of a faceless photo counts in ``moodtape_detector_seconds`` (vision/rolled.py).

Before, a photo with no face found was searched again in turned copies outside the timed detector
call: the metric saw the upright search alone (36 ms on a faceless 640 × 480 photo) and not the
turned one that more than doubled it. Now the picture's one observation holds both.
"""

from __future__ import annotations

import re
import time
from typing import Any

import cv2
import numpy as np
import pytest
from webtools import AppFactory

from moodtape.vision import rolled

#: Each turned copy is made this much slower, so that the turned search's share is unmistakable.
SLOWER = 0.15


def _metric(text: str, name: str) -> float:
    """One unlabelled sample's value in Prometheus text, 0 when absent."""
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_a_faceless_photos_turned_search_is_timed_with_its_detection(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = rolled._turned
    copies: list[float] = []

    def slow_turned(gray: Any, degrees: float) -> Any:
        copies.append(degrees)
        time.sleep(SLOWER)
        return made(gray, degrees)

    monkeypatch.setattr(rolled, "_turned", slow_turned)
    noise = np.random.default_rng(2).integers(0, 256, (480, 640), dtype=np.uint8)
    ok, photo = cv2.imencode(".png", noise)
    assert ok
    client = make_app().test_client()
    before = client.get("/metrics").text
    reply = client.post("/api/analyze", data=photo.tobytes(), headers={"Content-Type": "image/png"})
    assert reply.status_code == 200 and reply.get_json()["faces"] == []
    after = client.get("/metrics").text
    assert len(copies) >= 2  # the turned search ran
    grew = _metric(after, "moodtape_detector_seconds_count") - _metric(before, "moodtape_detector_seconds_count")
    took = _metric(after, "moodtape_detector_seconds_sum") - _metric(before, "moodtape_detector_seconds_sum")
    assert grew == 1  # one picture, one observation
    assert took >= SLOWER * len(copies)
