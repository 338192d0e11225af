"""``restore`` bounds a state's whole numbers, so what it takes ``state()`` can write back.

Measured before (``FaceSmoother.restore``): ``next_id = 10**5000`` was taken, and
``json.dumps(state())`` then raised Python's ValueError "Exceeds the limit (4300 digits) for
integer string conversion"; a track id of ``-10**5000`` was refused with that same plain
ValueError (the message's ``{value!r:.60}`` failed) instead of an ArgumentError; ids of 10**30
and boxes of 10**30 pixels were taken. Now each is an ArgumentError naming the part.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from moodtape.errors import ArgumentError
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import FaceSmoother, StreamAnalyzer

PROBABILITIES = [1, 0, 0, 0, 0, 0, 0]
HUGE = 10**5000  # over the 4,300 digits Python writes out


def _smoother_state(track_id: int = 1, box: list[int] | None = None, next_id: int = 2) -> dict[str, Any]:
    return {"next_id": next_id, "tracks": [[track_id, box or [0, 0, 1, 1], PROBABILITIES, 0.0]]}


@pytest.mark.parametrize(
    ("state", "said"),
    [
        ({"next_id": HUGE, "tracks": []}, r"'next_id' must be a whole number, at most \d+, got <a 5001-digit integer>"),
        (_smoother_state(next_id=10**30 + 1, track_id=10**30), r"tracks\[0\]'s id must be a whole number, at most"),
        (_smoother_state(track_id=-HUGE), r"tracks\[0\]'s id must be a whole number, 1 or more, got -<a 5001-digit"),
        (_smoother_state(box=[0, 0, 10**30, 10**30]), r"tracks\[0\]'s box must be .* each at most 2147483647"),
        (_smoother_state(box=[0, 0, HUGE, 1]), r"tracks\[0\]'s box must be .* got \[0, 0, <a 5001-digit"),
    ],
    ids=["next-id-huge", "id-1e30", "id-negative-huge", "box-1e30", "box-huge"],
)
def test_a_smoother_state_with_numbers_too_large_is_refused(state: dict[str, Any], said: str) -> None:
    smoother = FaceSmoother()
    with pytest.raises(ArgumentError, match=said):
        smoother.restore(state)
    json.dumps(smoother.state())  # left as it was, and still written out


def test_the_largest_numbers_taken_are_written_back() -> None:
    smoother = FaceSmoother()
    most = 2**53
    smoother.restore(_smoother_state(track_id=most - 1, next_id=most, box=[0, 0, 2**31 - 1, 2**31 - 1]))
    assert json.loads(json.dumps(smoother.state()))["next_id"] == most


@pytest.fixture(scope="module")
def saved(bundled_analyzer: Analyzer, astronaut_bgr: npt.NDArray[np.uint8]) -> dict[str, Any]:
    stream = StreamAnalyzer(bundled_analyzer)
    stream.process(astronaut_bgr, 0.0)
    return stream.state()


@pytest.mark.parametrize(
    ("part", "value", "said"),
    [
        ("frame", HUGE, r"'frame' must be a whole number, at most \d+, got <a 5001-digit integer>"),
        ("shape", [HUGE, 3], r"'shape' must be two whole numbers of pixels, 1 or more and at most 2147483647"),
        ("main", [HUGE, None, 0.0, None, []], r"'main' is .*a track id must be a whole number, at most \d+"),
    ],
    ids=["frame", "shape", "main"],
)
def test_a_stream_state_with_numbers_too_large_is_refused(
    bundled_analyzer: Analyzer, saved: dict[str, Any], part: str, value: object, said: str
) -> None:
    stream = StreamAnalyzer(bundled_analyzer)
    with pytest.raises(ArgumentError, match=said):
        stream.restore({**saved, part: value})
    json.dumps(stream.state())
