"""Photos and frames as people bring them (session 17): float pictures that peak over 1, faces that
move past a stream's re-detection window, clocks that jump, and calibration slips."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from vision_scenes import HEAD, iou

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError, ImageError
from moodtape.types import Box, Face
from moodtape.vision.calibrate import calibrate_with
from moodtape.vision.calibration import Profile, ProfileError, fit_profile
from moodtape.vision.images import load_image
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import FaceSmoother, StreamAnalyzer

CENTRE = Box(100, 100, 80, 80)


def _face(emotion: str, box: Box = CENTRE) -> Face:
    rest = 0.06 / (len(EMOTIONS) - 1)
    return Face(box, {label: 0.94 if label == emotion else rest for label in EMOTIONS})


# --- float pictures ------------------------------------------------------------------------------


def test_a_float_picture_peaking_a_little_over_one_is_read_on_the_0_1_scale(
    bundled_analyzer: Analyzer, astronaut_bgr: npt.NDArray[np.uint8]
) -> None:
    # A [0, 1] picture after a 2 % gain (or bicubic resampling's overshoot) peaks at 1.02: it was read
    # as 0–255, a black picture with no face.
    bright = astronaut_bgr.astype(np.float32) / 255.0 * 1.02
    assert bright.max() > 1.0
    gray = load_image(bright, gray=True)
    expected = np.clip(cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY).astype(np.float64) * 1.02, 0, 255)
    assert np.abs(gray.astype(np.float64) - expected).max() <= 2
    faces = bundled_analyzer.analyze(bright)
    plain = bundled_analyzer.analyze(astronaut_bgr)
    assert len(faces) == 1
    assert iou(faces[0].box, plain[0].box) > 0.9
    assert faces[0].emotion == plain[0].emotion == "happy"


def test_a_float_picture_on_the_0_255_scale_is_still_read_as_such(astronaut_bgr: npt.NDArray[np.uint8]) -> None:
    gray = load_image(astronaut_bgr.astype(np.float64), gray=True)
    assert np.array_equal(gray, cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY))


# --- streams -------------------------------------------------------------------------------------


def _scene(head: npt.NDArray[np.uint8], x: int, y: int = 100) -> npt.NDArray[np.uint8]:
    canvas = np.full((480, 640), 128, np.uint8)
    h, w = head.shape
    canvas[y : y + h, x : x + w] = head
    return canvas


def test_a_face_that_moved_past_the_re_detection_window_keeps_its_whole_box(
    bundled_analyzer: Analyzer, astronaut_bgr: npt.NDArray[np.uint8]
) -> None:
    # At a few frames a second a face moves far between frames. The window around its last box
    # (half a box each side) still finds it, but its box was cut at the window's edge, 81 × 117
    # instead of a 107-px square, though the whole face was in the frame.
    head = np.ascontiguousarray(cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY)[HEAD])
    moved = _scene(head, 380)
    whole = bundled_analyzer.analyze(moved)[0].box
    stream = StreamAnalyzer(bundled_analyzer, detect_every=2)
    (first,) = stream.process(_scene(head, 300), 0.0)
    window_right = first.box.x + first.box.w * 3 // 2
    assert whole.x + whole.w > window_right  # the face reaches past the window
    (found,) = stream.process(moved, 0.2)  # not a full search: the window's
    assert abs(found.box.w - found.box.h) <= 1, found.box
    assert found.box.x + found.box.w > window_right
    assert iou(found.box, whole) > 0.75


def test_a_timestamp_that_is_not_a_number_is_refused() -> None:
    smoother = FaceSmoother()
    smoother.update([_face("happy")], 1.0)
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="finite"):
            smoother.update([_face("happy")], bad)
    assert smoother.state()["tracks"][0][3] == 1.0  # the track is untouched


def test_a_clock_that_jumps_back_starts_afresh() -> None:
    # A restarted camera (or a seek back) whose timestamps start again from 0: the track seen at
    # 10 s lived on, and the next face there took its id and its old mood, its own ignored.
    smoother = FaceSmoother()
    (before,) = smoother.update([_face("happy")], 10.0)
    (after,) = smoother.update([_face("sad")], 0.0)
    assert after.track_id != before.track_id
    assert after.emotion == "sad"
    assert after.probabilities["sad"] == pytest.approx(0.94)


def test_a_small_step_back_keeps_the_track() -> None:
    smoother = FaceSmoother()
    (before,) = smoother.update([_face("happy")], 10.0)
    (after,) = smoother.update([_face("happy")], 9.9)
    assert after.track_id == before.track_id


# --- calibration ---------------------------------------------------------------------------------


def test_a_calibration_photo_that_cannot_be_read_is_named_once(bundled_analyzer: Analyzer, tmp_path: Path) -> None:
    missing = tmp_path / "me.jpg"
    with pytest.raises(ImageError) as caught:
        calibrate_with(bundled_analyzer, {"neutral": [missing]})
    assert str(caught.value) == f"{missing}: file not found"


def test_calibration_bytes_that_are_not_an_image_are_named(bundled_analyzer: Analyzer) -> None:
    with pytest.raises(ImageError) as caught:
        calibrate_with(bundled_analyzer, {"neutral": [b"not a picture"]})
    assert str(caught.value).startswith("neutral image #1: not an image")


def test_one_picture_given_as_two_emotions_is_refused(
    bundled_analyzer: Analyzer, astronaut_bgr: npt.NDArray[np.uint8], tmp_path: Path
) -> None:
    path = tmp_path / "me.png"
    cv2.imwrite(str(path), astronaut_bgr)
    copy = tmp_path / "copy.png"
    copy.write_bytes(path.read_bytes())
    with pytest.raises(DataError, match=r"me\.png: the same picture is given as neutral and as happy"):
        calibrate_with(bundled_analyzer, {"neutral": [path], "happy": [path]})
    with pytest.raises(DataError, match=r"me\.png and .*copy\.png: the same picture"):
        calibrate_with(bundled_analyzer, {"neutral": [path], "happy": [copy]})
    # The same picture twice for one emotion is no contradiction.
    profile = calibrate_with(bundled_analyzer, {"neutral": [path, copy]})
    assert profile.examples == {"neutral": 2}


def _profile_dict() -> dict[str, object]:
    rng = np.random.default_rng(0)
    probabilities = {label: rng.dirichlet(np.ones(7), 2).astype(np.float32) for label in ("neutral", "happy")}
    embeddings = {label: rng.normal(size=(2, 16)).astype(np.float32) for label in ("neutral", "happy")}
    data: dict[str, object] = fit_profile("m" * 64, probabilities, embeddings).to_dict()
    return data


@pytest.mark.parametrize(
    "change",
    [
        {"weight": math.inf},
        {"weight": math.nan},
        {"weight": -1.0},
        {"center": {"scale": math.inf}},
        {"prototypes": {"happy": {"scale": math.nan}}},
        {"examples": {"neutral": 0}},
        {"examples": {"neutral": 1.5}},
        {"notes": "used the largest"},
    ],
)
def test_a_profile_with_unusable_numbers_is_refused_when_read(change: dict[str, object]) -> None:
    # Python's JSON reads and writes NaN and Infinity: such a profile loaded, and every face read
    # through it then failed with a bare ValueError ("probabilities must be finite").
    data = _profile_dict()
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(data[key], dict):
            target = data[key]
            assert isinstance(target, dict)
            for inner, inner_value in value.items():
                if isinstance(inner_value, dict):
                    target[inner] = {**target[inner], **inner_value}
                else:
                    target[inner] = inner_value
        else:
            data[key] = value
    with pytest.raises(ProfileError):
        Profile.from_json(json.dumps(data))


def test_a_profile_round_trips_through_json() -> None:
    data = _profile_dict()
    again = Profile.from_json(json.dumps(data)).to_dict()
    assert again == data
