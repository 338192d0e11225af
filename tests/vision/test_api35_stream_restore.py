"""``StreamAnalyzer.restore``: a state that is not one is an ``ArgumentError`` naming the part.

Before, such a state was a bare ``ValueError`` quoting Python's own words ("not a stream state:
'NoneType' object is not subscriptable", "not a stream state: 'frame'"), or it was taken: a track
id of 1.7, a box of negative width, a frame count of -3, duplicate track ids, a ``next_id`` at a
track's id (the next new face then shared it). A good state, straight or through JSON, still
restores exactly, and so does one from an earlier version or with keys a later one adds.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from moodtape.errors import ArgumentError, DataError
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import FaceSmoother, StreamAnalyzer

HOW = r"pass what StreamAnalyzer\.state\(\) returned, or json\.loads\(\) of its JSON"


@pytest.fixture(scope="module")
def saved(bundled_analyzer: Analyzer, astronaut_bgr: npt.NDArray[np.uint8]) -> dict[str, Any]:
    """The state of a stream that has seen the astronaut in two frames (one track, a main person)."""
    stream = StreamAnalyzer(bundled_analyzer)
    stream.process(astronaut_bgr, 0.0)
    stream.process(astronaut_bgr, 0.1)
    state = stream.state()
    assert len(state["tracks"]) == 1 and state["main"][0] == 1
    return state


def _with_track(state: dict[str, Any], index: int, value: object) -> dict[str, Any]:
    """``state`` with one part of its first track's row replaced."""
    row = list(state["tracks"][0])
    row[index] = value
    return {**state, "tracks": [row]}


def _bad_states(saved: dict[str, Any]) -> dict[str, tuple[object, str]]:
    """Each bad state, and what its error must say."""
    track = saved["tracks"][0]
    return {
        "None": (None, r"got NoneType, not a dict; " + HOW),
        "a-list": ([], r"got list, not a dict; " + HOW),
        "empty": ({}, r"it has no 'frame' or 'next_id' or 'tracks'"),
        "json-text": (json.dumps(saved), r"got JSON text, not the dict it holds; pass json\.loads\(text\)"),
        "a-smoother-state": (FaceSmoother().state(), r"it has no 'frame' \(a stream state has 'frame', 'next_id'"),
        "another-kind": ({"version": 99, "model": "other.onnx", "data": {}}, r"it has no 'frame' or 'next_id'"),
        "frame-text": ({**saved, "frame": "2"}, r"'frame' must be a whole number, 0 or more, got '2'"),
        "frame-negative": ({**saved, "frame": -3}, r"'frame' must be a whole number, 0 or more, got -3"),
        "frame-fraction": ({**saved, "frame": 1.5}, r"'frame' must be a whole number"),
        "tracks-None": ({**saved, "tracks": None}, r"'tracks' must be a list of \[track id, box, probabilities"),
        "tracks-dict": ({**saved, "tracks": {}}, r"'tracks' must be a list"),
        "row-of-three": ({**saved, "tracks": [track[:3]]}, r"tracks\[0\] must be \[track id, box, probabilities, last"),
        "id-fraction": (_with_track(saved, 0, 1.7), r"tracks\[0\]'s id must be a whole number, 1 or more, got 1\.7"),
        "id-bool": (_with_track(saved, 0, True), r"tracks\[0\]'s id must be a whole number"),
        "box-negative": (_with_track(saved, 1, [0, 0, -5, 1]), r"tracks\[0\]'s box must be \[x, y, width, height\]"),
        "box-fractions": (_with_track(saved, 1, [0.5, 0, 1, 1]), r"tracks\[0\]'s box must be .*in whole pixels"),
        "box-None": (_with_track(saved, 1, None), r"tracks\[0\]'s box must be \[x, y, width, height\], got None"),
        "five-probabilities": (_with_track(saved, 2, [0.2] * 5), r"tracks\[0\]'s probabilities must be 7 finite"),
        "probabilities-dict": (_with_track(saved, 2, {"happy": 1.0}), r"one per emotion \(angry, disgust,"),
        "probabilities-bools": (_with_track(saved, 2, [True] * 7), r"tracks\[0\]'s probabilities must be 7"),
        "last-seen-text": (_with_track(saved, 3, "now"), r"tracks\[0\]'s last seen must be a finite number of seconds"),
        "last-seen-bool": (_with_track(saved, 3, True), r"tracks\[0\]'s last seen must be a finite number"),
        "same-id-twice": ({**saved, "tracks": [track, track]}, r"tracks\[1\]'s id 1 is another track's too"),
        "next-id-at-a-track": ({**saved, "next_id": 1}, r"'next_id' \(1\) must be above every track's id \(1 here\)"),
        "next-id-text": ({**saved, "next_id": "2"}, r"'next_id' must be a whole number, 1 or more, got '2'"),
        "first-seen-number": ({**saved, "first_seen": 5}, r"'first_seen' must be a list of \[track id, seconds\]"),
        "first-seen-dict": ({**saved, "first_seen": {"1": 0.0}}, r"'first_seen' must be a list"),
        "main-text": ({**saved, "main": "x"}, r"its 'main' is not a main-person state"),
        "shape-zero": ({**saved, "shape": [0, 3]}, r"'shape' must be two whole numbers of pixels, 1 or more"),
    }


CASES = sorted(_bad_states({"frame": 2, "next_id": 2, "tracks": [[1, [0, 0, 1, 1], [1 / 7] * 7, 0.0]]}))


@pytest.mark.parametrize("case", CASES)
def test_a_state_that_is_not_one_is_an_argument_error_naming_the_part(
    bundled_analyzer: Analyzer, saved: dict[str, Any], case: str
) -> None:
    state, message = _bad_states(saved)[case]
    stream = StreamAnalyzer(bundled_analyzer)
    with pytest.raises(ArgumentError, match=message) as caught:
        stream.restore(state)  # type: ignore[arg-type]
    assert str(caught.value).startswith("not a stream state: ")
    assert isinstance(caught.value, DataError) and isinstance(caught.value, ValueError)
    assert caught.value.status == 400


def test_a_refused_state_leaves_the_stream_as_it_was(
    bundled_analyzer: Analyzer, saved: dict[str, Any], astronaut_bgr: npt.NDArray[np.uint8]
) -> None:
    """Checked whole before anything is taken: the main person and frame count were good here."""
    stream = StreamAnalyzer(bundled_analyzer)
    stream.process(astronaut_bgr, 5.0)
    before = stream.state()
    with pytest.raises(ArgumentError):
        stream.restore({**saved, "frame": 40, "next_id": 1})
    assert stream.state() == before


def test_a_state_through_json_restores_exactly(
    bundled_analyzer: Analyzer, saved: dict[str, Any], astronaut_bgr: npt.NDArray[np.uint8]
) -> None:
    """As the web app keeps it: the restored stream's state is the saved one, and its next frame
    reads as the first stream's next frame does (same track, same smoothed numbers)."""
    first, second = StreamAnalyzer(bundled_analyzer), StreamAnalyzer(bundled_analyzer)
    first.restore(saved)
    second.restore(json.loads(json.dumps(saved)))
    assert first.state() == saved and second.state() == saved
    one, two = first.process(astronaut_bgr, 0.2), second.process(astronaut_bgr, 0.2)
    assert one == two and one[0].track_id == 1
    assert first.state() == second.state()


def test_states_of_earlier_and_later_versions_restore(bundled_analyzer: Analyzer, saved: dict[str, Any]) -> None:
    """Mid-deploy, instances of two versions take turns on one stream: keys an earlier one lacks
    start those parts afresh, keys a later one adds are left alone (so is the model it ran)."""
    earlier = {key: saved[key] for key in ("frame", "next_id", "tracks")}
    stream = StreamAnalyzer(bundled_analyzer)
    stream.restore(earlier)
    assert stream.state()["tracks"] == saved["tracks"] and stream.state()["main"][0] is None
    later = {**saved, "model": "another-model", "ages": [[1, 0.1]]}
    stream.restore(later)
    assert stream.state() == saved


def test_a_smoother_state_is_checked_the_same_way(saved: dict[str, Any]) -> None:
    smoother = FaceSmoother()
    with pytest.raises(ArgumentError, match=r"^not a smoother state: got NoneType, not a dict; pass what FaceSmoother"):
        smoother.restore(None)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"tracks\[0\]'s id must be a whole number"):
        smoother.restore(_with_track(saved, 0, "1"))
    smoother.restore(json.loads(json.dumps(saved)))
    assert smoother.state() == {key: saved[key] for key in ("next_id", "tracks", "first_seen")}
