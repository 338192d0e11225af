"""A face YuNet finds in a turned photo as it is, with upright landmarks, is read turned upright
(vision/upside_down.py).

Before, a photo turned by 180° (or 90°) without EXIF whose face YuNet still "found" as it is was
classified upside down or sideways: the quarter-turn search runs only for photos with no face. Yale's
photos turned by 180° were read right 20.1 % of the time (upright: 85.8 %). The astronaut's head,
enlarged 2×, turned by 180°: found as it is at 0.73, read "sad" at 0.40. Now the unsure face is
checked in a small window turned by a quarter and a half turn, and read from the turn it belongs to.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from tests.vision.vision_scenes import HEAD

from moodtape.types import Box
from moodtape.vision import upside_down
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import StreamAnalyzer
from moodtape.vision.yunet import Landmarks, YuNetDetector

Gray = npt.NDArray[np.uint8]


def enlarged_head(astronaut_gray: Gray) -> Gray:
    """The astronaut's head and shoulders, enlarged 2× (440 × 440)."""
    return np.asarray(cv2.resize(astronaut_gray[HEAD], None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR), np.uint8)


@pytest.mark.parametrize("quarters", [2, 1, 3])
def test_a_face_found_as_it_is_in_a_turned_photo_is_read_upright(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, quarters: int
) -> None:
    head = enlarged_head(astronaut_gray) if quarters == 2 else astronaut_gray[HEAD]
    (upright,) = bundled_analyzer.analyze_gray(np.ascontiguousarray(head))
    turned = np.ascontiguousarray(np.rot90(head, quarters))
    # The premise: YuNet finds this face in the turned photo as it is (an upright face's landmarks).
    assert bundled_analyzer.detector.detect_landmarks(turned) != []
    (face,) = bundled_analyzer.analyze_gray(turned)
    assert face.emotion == upright.emotion == "happy"
    assert abs(face.probabilities["happy"] - upright.probabilities["happy"]) < 0.05
    ((_, landmarks),) = bundled_analyzer.locate(turned)
    assert landmarks is not None and landmarks.turned == (4 - quarters) * 90
    # Its box is the upright face's box, turned with the photo.
    side = head.shape[0]
    centre = (upright.box.x + upright.box.w / 2, upright.box.y + upright.box.h / 2)
    expected = {
        1: (centre[1], side - centre[0]),
        2: (side - centre[0], side - centre[1]),
        3: (side - centre[1], centre[0]),
    }[quarters]
    found = (face.box.x + face.box.w / 2, face.box.y + face.box.h / 2)
    assert max(abs(a - b) for a, b in zip(found, expected, strict=True)) <= 0.06 * upright.box.w
    assert abs(face.box.w - upright.box.w) <= 0.1 * upright.box.w


@pytest.mark.parametrize("degrees", [0, 20, -20])
def test_upright_and_rolled_faces_are_not_turned(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, degrees: int
) -> None:
    head = enlarged_head(astronaut_gray)
    matrix = cv2.getRotationMatrix2D((head.shape[1] / 2, head.shape[0] / 2), degrees, 1.0)
    rolled = np.asarray(cv2.warpAffine(head, matrix, head.shape[::-1], borderMode=cv2.BORDER_REPLICATE), np.uint8)
    # An unsure face is checked, and every check must leave an upright face as it is.
    checked: list[Any] = []
    original = upside_down._turned_face
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(upside_down, "CHECK_BELOW", 1.0)
        patch.setattr(upside_down, "_turned_face", lambda *a: checked.append(original(*a)) or checked[-1])
        located = bundled_analyzer.locate(rolled)
    assert len(located) == 1 and checked == [None]
    (face,) = bundled_analyzer.analyze_gray(rolled)
    assert face.emotion == "happy"


def test_a_sure_face_costs_no_check(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(upside_down, "_turned_face", lambda *a: calls.append(a))
    ((_, landmarks),) = bundled_analyzer.detector.detect_landmarks(astronaut_gray)
    assert landmarks.score >= upside_down.CHECK_BELOW
    assert len(bundled_analyzer.analyze_gray(astronaut_gray)) == 1
    assert calls == []


def test_a_streams_frames_are_not_checked(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(upside_down, "righted", lambda *a: calls.append(a) or a[2])
    frame = np.full((480, 640), 120, np.uint8)
    head = astronaut_gray[HEAD]
    frame[20 : 20 + head.shape[0], 200 : 200 + head.shape[1]] = head
    bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    StreamAnalyzer(bundled_analyzer).process(bgr, 0.0)
    assert calls == []
    assert len(bundled_analyzer.analyze_gray(frame)) == 1
    assert len(calls) == 1  # the same picture as a photo is checked


def face_at(x: float, y: float, side: float, score: float, turned: float = 0.0) -> Landmarks:
    """A face whose box is ``side`` pixels at ``(x, y)``, with an upright face's five points."""
    points = tuple(
        (x + fx * side, y + fy * side) for fx, fy in ((0.3, 0.4), (0.7, 0.4), (0.5, 0.55), (0.35, 0.75), (0.65, 0.75))
    )
    return Landmarks(Box(round(x), round(y), round(side), round(side)), points, score, turned)


def test_righted_faces_come_back_largest_first_and_one_turned_face_is_kept_once(
    bundled_analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, a turned face took the place of the face it replaced, out of size order (5 of 29
    two-face Yale photos turned by 180°), and two found faces that were one turned face were both kept."""
    detector = bundled_analyzer.detector
    assert isinstance(detector, YuNetDetector)
    gray = np.zeros((600, 900), np.uint8)
    large, small, other = face_at(100, 100, 200, 0.8), face_at(500, 100, 150, 0.8), face_at(520, 120, 140, 0.7)
    turned = {small: face_at(470, 80, 260, 0.93, turned=180), other: face_at(475, 85, 255, 0.92, turned=180)}
    monkeypatch.setattr(upside_down, "_turned_face", lambda _detector, _gray, face: turned.get(face))
    found = detector.largest_first(gray.shape, [large, small, other])
    assert len(found) == 2  # YuNet's own overlaps are merged before: ``other`` is not in it
    righted = upside_down.righted(detector, gray, [*found, (other.fer_box(gray.shape), other)])
    sizes = [box.w * box.h for box, _ in righted]
    assert sizes == sorted(sizes, reverse=True)
    assert [face for _, face in righted] == [turned[small], large]


@pytest.mark.parametrize(("gain", "turns"), [(0.04, False), (0.06, True)])
def test_a_face_is_turned_only_when_its_turned_window_beats_it_by_the_margin(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, monkeypatch: pytest.MonkeyPatch, gain: float, turns: bool
) -> None:
    detector = bundled_analyzer.detector
    assert isinstance(detector, YuNetDetector)
    scores = iter([0.88, 0.88 + gain, 0.1, 0.1])  # the window as it is, then turned by 180°, 90° and 270°
    window_face = face_at(40, 40, 80, 0.0)
    monkeypatch.setattr(
        upside_down, "_centred_face", lambda _detector, _window: dataclasses.replace(window_face, score=next(scores))
    )
    face = face_at(150, 150, 200, 0.7)
    result = upside_down._turned_face(detector, astronaut_gray, face)
    assert (result is not None) == turns
    if result is not None:
        assert result.turned == 180


def test_a_neighbours_face_in_the_window_does_not_turn_the_face_checked(
    bundled_analyzer: Analyzer, astronaut_gray: Gray
) -> None:
    """An upright head (found at 0.88, so checked) with a smaller upside-down head close beside it,
    within its window: the window's turned copy holds a sure face, but not at the centre, where the
    face checked is; counting any face of the window turned the upright face by 180°."""
    head = enlarged_head(astronaut_gray)
    neighbour = cv2.resize(np.ascontiguousarray(head[::-1, ::-1][:, 100:]), None, fx=0.6, fy=0.6)
    neighbour = np.vstack([neighbour, np.full((head.shape[0] - neighbour.shape[0], neighbour.shape[1]), 128, np.uint8)])
    pair = np.ascontiguousarray(np.hstack([head[:, :260], neighbour]))
    ((_, face),) = bundled_analyzer.detector.detect_landmarks(pair)
    assert face.score < upside_down.CHECK_BELOW  # the premise: it is checked
    ((_, landmarks),) = bundled_analyzer.locate(pair)
    assert landmarks is None  # not turned (and so cropped as found)
    (read,) = bundled_analyzer.analyze_gray(pair)
    assert read.emotion == "happy"


def test_at_most_the_six_largest_unsure_faces_of_a_crowd_are_checked(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = np.ascontiguousarray(astronaut_gray[HEAD])
    crowd = np.ascontiguousarray(np.vstack([np.hstack([head] * 4)] * 2))
    checked: list[Landmarks] = []
    monkeypatch.setattr(upside_down, "CHECK_BELOW", 1.0)
    monkeypatch.setattr(upside_down, "_turned_face", lambda _detector, _gray, face: checked.append(face))
    located = bundled_analyzer.locate(crowd)
    assert len(located) == 8
    assert len(checked) == upside_down.MOST_CHECKED == 6
