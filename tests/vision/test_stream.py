"""Streams: exponential smoothing with a documented time constant, stable track ids, scheduled detection."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from moodtape.emotions import EMOTIONS
from moodtape.types import Box, Face
from moodtape.vision.pipeline import Analyzer, make_detector
from moodtape.vision.stream import DEFAULT_TIME_CONSTANT, FaceSmoother, StreamAnalyzer, iou

CENTRE = Box(100, 100, 80, 80)


def face(emotion: str, box: Box = CENTRE, strength: float = 0.94) -> Face:
    rest = (1.0 - strength) / (len(EMOTIONS) - 1)
    return Face(box, {label: strength if label == emotion else rest for label in EMOTIONS})


@pytest.mark.parametrize(("elapsed", "moved"), [(1.0, 1 - math.exp(-1)), (3.0, 1 - math.exp(-3)), (0.0, 0.0)])
def test_smoothing_moves_one_minus_e_to_the_minus_t_over_tau(elapsed: float, moved: float) -> None:
    tau = 0.5
    smoother = FaceSmoother(time_constant=tau, max_age=10.0)
    start = smoother.update([face("happy")], timestamp=10.0)[0].probabilities["sad"]
    target = face("sad").probabilities["sad"]
    now = smoother.update([face("sad")], timestamp=10.0 + elapsed * tau)[0].probabilities["sad"]
    assert (now - start) / (target - start) == pytest.approx(moved, abs=1e-9)


def test_default_time_constant_is_the_documented_one() -> None:
    assert DEFAULT_TIME_CONSTANT == 0.6
    smoother = FaceSmoother()
    smoother.update([face("happy")], 0.0)
    happy = smoother.update([face("sad")], 0.6)[0].probabilities["happy"]
    assert happy == pytest.approx(0.94 + (0.01 - 0.94) * (1 - math.exp(-1)), abs=1e-9)  # 63 % of the way


def test_smoothing_is_the_same_at_any_frame_rate() -> None:
    fast, slow = FaceSmoother(), FaceSmoother()
    fast.update([face("happy")], 0.0)
    slow.update([face("happy")], 0.0)
    for step in range(1, 31):  # 30 fps for a second
        fast_result = fast.update([face("sad")], step / 30)
    slow_result = slow.update([face("sad")], 1.0)  # one frame a second later
    assert fast_result[0].probabilities["sad"] == pytest.approx(slow_result[0].probabilities["sad"], abs=1e-9)


def test_smoothed_faces_are_valid_and_keep_order() -> None:
    smoother = FaceSmoother()
    first = [face("happy", Box(0, 0, 50, 50)), face("angry", Box(300, 0, 60, 60))]
    out = smoother.update(first, 0.0)
    assert [f.box for f in out] == [f.box for f in first]
    assert [f.emotion for f in out] == ["happy", "angry"]
    for f in out:
        assert sum(f.probabilities.values()) == pytest.approx(1.0)


def test_track_ids_follow_overlapping_boxes() -> None:
    smoother = FaceSmoother()
    a, b = Box(100, 100, 80, 80), Box(400, 100, 80, 80)
    first = smoother.update([face("happy", a), face("sad", b)], 0.0)
    assert first[0].track_id != first[1].track_id
    moved_a, moved_b = Box(110, 104, 80, 80), Box(392, 98, 82, 82)
    assert iou(a, moved_a) > 0.3
    second = smoother.update([face("sad", moved_b), face("happy", moved_a)], 0.1)  # order swapped
    assert second[0].track_id == first[1].track_id
    assert second[1].track_id == first[0].track_id


def test_a_far_box_gets_a_new_id() -> None:
    smoother = FaceSmoother()
    (first,) = smoother.update([face("happy", Box(0, 0, 80, 80))], 0.0)
    (far,) = smoother.update([face("happy", Box(300, 300, 80, 80))], 0.1)
    assert far.track_id != first.track_id
    assert far.probabilities == face("happy").probabilities  # a new track starts unsmoothed


def test_tracks_expire_after_max_age() -> None:
    smoother = FaceSmoother(max_age=1.0)
    box = Box(0, 0, 80, 80)
    (first,) = smoother.update([face("happy", box)], 0.0)
    (kept,) = smoother.update([face("happy", box)], 0.9)
    assert kept.track_id == first.track_id
    smoother.update([], 1.5)  # still alive: last seen at 0.9
    assert smoother.boxes == [box]
    smoother.update([], 2.0)  # 1.1 s unseen
    assert smoother.boxes == []
    (again,) = smoother.update([face("happy", box)], 2.1)
    assert again.track_id != first.track_id


def test_uncertain_flag_uses_the_smoothed_probabilities() -> None:
    smoother = FaceSmoother(uncertain_below=0.5)
    smoother.update([face("happy")], 0.0)
    (mixed,) = smoother.update([face("sad")], DEFAULT_TIME_CONSTANT * math.log(2))  # halfway: 0.475 each
    assert mixed.probabilities["happy"] == pytest.approx(0.475)
    assert mixed.uncertain is True


def _shifted_frames(astronaut_gray: npt.NDArray[np.uint8], count: int, step: int) -> list[npt.NDArray[np.uint8]]:
    canvas = np.full((560, 640), 128, dtype=np.uint8)
    frames = []
    for i in range(count):
        frame = canvas.copy()
        frame[20 : 20 + 512, 20 + i * step : 20 + i * step + 512] = astronaut_gray
        frames.append(frame)
    return frames


@pytest.mark.parametrize("detector", ["yunet", "haar"])
def test_stream_analyzer_tracks_the_face_with_scheduled_detection(
    bundled_analyzer: Analyzer, astronaut_gray: npt.NDArray[np.uint8], monkeypatch: pytest.MonkeyPatch, detector: str
) -> None:
    analyzer = Analyzer(make_detector(detector), bundled_analyzer.classifier)
    full_searches = []
    locate = analyzer.locate
    monkeypatch.setattr(
        analyzer, "locate", lambda gray, **options: full_searches.append(gray.shape) or locate(gray, **options)
    )
    stream = StreamAnalyzer(analyzer, detect_every=3)
    results = [stream.process(frame, i / 10) for i, frame in enumerate(_shifted_frames(astronaut_gray, 7, 6))]
    assert len(full_searches) == 3  # frames 0, 3 and 6; the others search near the known face
    assert all(len(faces) == 1 for faces in results)
    assert len({faces[0].track_id for faces in results}) == 1
    assert all(faces[0].emotion == "happy" for faces in results)
    xs = [faces[0].box.x for faces in results]
    assert xs[-1] - xs[0] == pytest.approx(36, abs=8)  # the box followed the 6 px steps


def test_detect_every_must_be_positive(bundled_analyzer: Analyzer) -> None:
    with pytest.raises(ValueError, match="detect_every"):
        StreamAnalyzer(bundled_analyzer, detect_every=0)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (Box(0, 0, 10, 10), Box(0, 0, 10, 10), 1.0),
        (Box(0, 0, 10, 10), Box(5, 0, 10, 10), 1 / 3),
        (Box(0, 0, 5, 5), Box(9, 9, 5, 5), 0.0),
    ],
)
def test_iou(a: Box, b: Box, expected: float) -> None:
    assert iou(a, b) == pytest.approx(expected)


def test_neighbouring_tracks_find_their_shared_face_once(
    bundled_analyzer: Analyzer, astronaut_gray: npt.NDArray[np.uint8]
) -> None:
    # Two live tracks near the same face (the old box and a new one after a fast move): both search
    # windows contain the face, which must still come back once, not twice.
    stream = StreamAnalyzer(bundled_analyzer, detect_every=3)
    near_face = [Box(160, 60, 100, 100), Box(190, 70, 100, 100)]
    found = stream._redetect(astronaut_gray, near_face)
    assert len(found) == 1
    assert iou(found[0][0], Box(173, 65, 99, 98)) > 0.6


def test_re_detection_windows_search_as_in_a_frame_not_as_in_a_photo() -> None:
    """A window cut short by the frame edge (240 × 60 around a 120-px face) is not a face photo: no
    enlarged copy, no smaller faces, no unsure faces, no second copy."""
    from moodtape.vision.stream import _local_detector
    from moodtape.vision.yunet import YuNetDetector

    local = _local_detector(YuNetDetector(), Box(100, 0, 120, 120))
    assert isinstance(local, YuNetDetector)
    settings = local.settings
    assert settings.photos is False and settings.min_face == 89  # 0.7 × the box side rounded to 16 px (128)
    assert settings.smallest_face((60, 240)) == 89
    assert settings.detect_scale((60, 240)) == pytest.approx(40 / 89)
    assert settings.second_scale((2000, 2000)) is None
