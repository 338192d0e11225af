"""Haar face detection: real faces found where they are, none in blank images, boxes merged and mapped back."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from vision_scenes import ASTRONAUT_FACE, inside, iou

from moodtape.errors import ModelError
from moodtape.types import Box
from moodtape.vision.faces import (
    CASCADE_FILE,
    DetectorSettings,
    FaceDetector,
    cascade_folder,
    overlap_ratio,
    suppress_overlaps,
)


def test_astronaut_has_one_face_where_it_is(detector: FaceDetector, astronaut_gray: npt.NDArray[np.uint8]) -> None:
    boxes = detector.detect(astronaut_gray)
    assert len(boxes) == 1
    (box,) = boxes
    assert all(isinstance(v, int) for v in box)
    assert iou(box, ASTRONAUT_FACE) > 0.6


def test_two_faces_come_largest_first(
    detector: FaceDetector, two_face_scene: tuple[npt.NDArray[np.uint8], list[Box]]
) -> None:
    scene, regions = two_face_scene
    boxes = detector.detect(cv2.cvtColor(scene, cv2.COLOR_BGR2GRAY))
    assert len(boxes) == 2
    assert boxes[0].w * boxes[0].h > boxes[1].w * boxes[1].h
    for box, region in zip(boxes, regions, strict=True):
        assert inside(box, region)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((480, 640), dtype=np.uint8),
        np.full((480, 640), 200, dtype=np.uint8),
        np.tile(np.linspace(0, 255, 640).astype(np.uint8), (480, 1)),
    ],
    ids=["black", "flat-grey", "gradient"],
)
def test_no_faces_in_plain_images(detector: FaceDetector, image: npt.NDArray[np.uint8]) -> None:
    assert detector.detect(image) == []


def test_boxes_from_the_downscaled_copy_map_back_to_input_pixels(astronaut_gray: npt.NDArray[np.uint8]) -> None:
    # min_face 60 → detection copy at 36/60 = 0.6 scale. Reference: scale 1 (no shrinking).
    shrunk = FaceDetector(DetectorSettings(min_face=60, min_face_detect=36, min_neighbors=5)).detect(astronaut_gray)
    full = FaceDetector(DetectorSettings(min_face=36, min_face_detect=36, min_neighbors=5)).detect(astronaut_gray)
    assert len(shrunk) == 1 and len(full) == 1
    assert iou(shrunk[0], full[0]) > 0.7
    # Both lie in input pixels, far from the 0.6-scaled position (≈ 104, 39).
    assert iou(shrunk[0], ASTRONAUT_FACE) > 0.6


def test_max_face_and_min_face_limit_what_is_found(astronaut_gray: npt.NDArray[np.uint8]) -> None:
    assert FaceDetector(DetectorSettings(min_face=140)).detect(astronaut_gray) == []
    assert FaceDetector(DetectorSettings(min_face=30, max_face=60)).detect(astronaut_gray) == []


def test_detect_refuses_colour_images(detector: FaceDetector, astronaut_bgr: npt.NDArray[np.uint8]) -> None:
    with pytest.raises(ValueError, match="gray"):
        detector.detect(astronaut_bgr)


def test_missing_cascade_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cascade"):
        FaceDetector(cascade_path=tmp_path / "missing.xml")


@pytest.mark.parametrize(
    "options",
    [
        {"min_face": 10},
        {"min_face_detect": 19},
        {"scale_factor": 1.0},
        {"min_neighbors": -1},
        {"overlap": 0.0},
        {"overlap": 1.5},
        {"weak_group_step": -0.5},
    ],
)
def test_detector_settings_are_validated(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DetectorSettings(**options)  # type: ignore[arg-type]


def test_suppress_overlaps_keeps_the_larger_of_nested_boxes() -> None:
    outer, inner, apart = Box(10, 10, 100, 100), Box(30, 30, 40, 40), Box(300, 300, 50, 50)
    assert suppress_overlaps([inner, apart, outer], threshold=0.5) == [outer, apart]


def test_suppress_overlaps_with_scores_keeps_the_confident_box_and_returns_largest_first() -> None:
    outer, inner, apart = Box(10, 10, 100, 100), Box(30, 30, 40, 40), Box(300, 300, 50, 50)
    kept = suppress_overlaps([outer, inner, apart], threshold=0.5, scores=[1.5, 4.0, 2.0])
    assert kept == [apart, inner]
    with pytest.raises(ValueError, match="one score per box"):
        suppress_overlaps([outer, inner], threshold=0.5, scores=[1.0])


def test_suppress_overlaps_keeps_boxes_that_overlap_little() -> None:
    a, b = Box(0, 0, 100, 100), Box(80, 0, 100, 100)  # 20 % of the smaller box shared
    assert overlap_ratio(a, b) == pytest.approx(0.2)
    assert suppress_overlaps([a, b], threshold=0.5) == [a, b]
    assert suppress_overlaps([a, b], threshold=0.1) == [a]


def test_overlap_ratio_of_disjoint_and_nested_boxes() -> None:
    assert overlap_ratio(Box(0, 0, 10, 10), Box(20, 20, 10, 10)) == 0.0
    assert overlap_ratio(Box(0, 0, 10, 10), Box(2, 2, 4, 4)) == 1.0


def test_threads_sharing_one_detector_get_the_single_threaded_answer(
    astronaut_gray: npt.NDArray[np.uint8],
) -> None:
    import threading

    detector = FaceDetector()
    frames = [cv2.resize(astronaut_gray, None, fx=f, fy=f) for f in (0.8, 1.0, 1.2, 1.5)]
    expected = [detector.detect(frame) for frame in frames]
    mismatches: list[int] = []

    def work(offset: int) -> None:
        for i in range(12):
            k = (i + offset) % len(frames)
            if detector.detect(frames[k]) != expected[k]:
                mismatches.append(k)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []


@pytest.mark.parametrize("shape", [(1, 1), (1, 300), (300, 1), (2, 2)])
def test_images_too_small_for_a_face_give_no_boxes(shape: tuple[int, int]) -> None:
    assert FaceDetector().detect(np.full(shape, 128, dtype=np.uint8)) == []


@pytest.mark.parametrize(
    ("hits", "score", "expected"),
    [
        (4, 1.0, True),
        (4, 0.9, False),
        (9, 1.2, True),
        (3, 1.9, False),
        (3, 2.0, True),
        (2, 2.9, False),
        (2, 3.1, True),
        (1, 9.0, False),  # a lone hit is never a face
    ],
)
def test_weak_groups_need_a_higher_score(hits: int, score: float, expected: bool) -> None:
    settings = DetectorSettings(min_neighbors=3, min_weight=1.0, weak_group_step=1.0)
    assert settings.accepts(hits, score) is expected
    plain = DetectorSettings(min_neighbors=3, min_weight=1.0, weak_group_step=None)
    assert plain.accepts(hits, score) is (hits >= 4 and score >= 1.0)


def test_a_confident_group_with_too_few_hits_is_found_only_with_the_weak_group_rule(
    astronaut_gray: npt.NDArray[np.uint8],
) -> None:
    # Ask for more hits than any group of the astronaut photo has: OpenCV's grouping finds nothing,
    # while the face's confident score (> 3, against 1.0 + 0.01 per missing hit) still carries it.
    cascade = cv2.CascadeClassifier(str(cascade_folder() / CASCADE_FILE))
    _, counts = cascade.detectMultiScale2(astronaut_gray, 1.1, 1, minSize=(48, 48))
    most = int(np.max(counts))
    base = DetectorSettings(min_face=48, min_face_detect=48, min_neighbors=most, min_weight=1.0)
    assert FaceDetector(dataclasses.replace(base, weak_group_step=None)).detect(astronaut_gray) == []
    found = FaceDetector(dataclasses.replace(base, weak_group_step=0.01)).detect(astronaut_gray)
    assert len(found) == 1 and iou(found[0], ASTRONAUT_FACE) > 0.6


@pytest.mark.parametrize(
    ("photo", "scale"),
    [("astronaut", 0.6), ("astronaut", 1.0), ("astronaut", 1.4), ("coins", 1.3), ("coins", 2.0), ("gravel", 1.0)],
)
@pytest.mark.parametrize("neighbours", [1, 3])
def test_plain_grouping_matches_opencv_boxes_and_scores(photo: str, scale: float, neighbours: int) -> None:
    # With the weak-group rule off, our grouping must give OpenCV's detectMultiScale3 boxes and scores.
    skimage_data = pytest.importorskip("skimage.data")
    image = getattr(skimage_data, photo)()
    gray = image if image.ndim == 2 else cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2GRAY)
    gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cascade = cv2.CascadeClassifier(str(cascade_folder() / CASCADE_FILE))
    found, _, weights = cascade.detectMultiScale3(gray, 1.1, 0, minSize=(24, 24), outputRejectLevels=True)
    rows, scores = np.asarray(found).reshape(-1, 4), np.asarray(weights, dtype=np.float64).reshape(-1)
    settings = DetectorSettings(min_face=24, min_face_detect=24, min_neighbors=neighbours, weak_group_step=None)
    ours = {
        group.box: round(group.score, 5)
        for group in FaceDetector(settings)._groups(rows, scores)
        if group.hits > neighbours
    }
    found, _, weights = cascade.detectMultiScale3(gray, 1.1, neighbours, minSize=(24, 24), outputRejectLevels=True)
    theirs = {
        tuple(int(v) for v in box): round(float(w), 5)
        for box, w in zip(np.asarray(found).reshape(-1, 4), np.ravel(weights), strict=True)
    }
    assert theirs, "OpenCV finds something to compare"
    assert ours == theirs
