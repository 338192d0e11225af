"""YuNet: finds the astronaut with sensible landmarks, frames her like Haar does, and measures roll."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from vision_scenes import ASTRONAUT_FACE, HEAD

import moodtape
from moodtape.errors import ModelError
from moodtape.types import Box
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import iou
from moodtape.vision.tiles import tile_windows
from moodtape.vision.yunet import CENTRE_BELOW_EYES, Landmarks, YuNetDetector, YuNetSettings


@pytest.fixture(scope="module")
def yunet() -> YuNetDetector:
    return YuNetDetector()


def rotate(gray: npt.NDArray[np.uint8], degrees: float) -> npt.NDArray[np.uint8]:
    """Rotate about the astronaut's face centre (anticlockwise for positive degrees)."""
    centre = (ASTRONAUT_FACE.x + ASTRONAUT_FACE.w / 2, ASTRONAUT_FACE.y + ASTRONAUT_FACE.h / 2)
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return np.asarray(cv2.warpAffine(gray, matrix, gray.shape[::-1], borderMode=cv2.BORDER_REFLECT_101))


def test_finds_the_astronaut_framed_like_the_haar_box(
    yunet: YuNetDetector, astronaut_gray: npt.NDArray[np.uint8]
) -> None:
    found = yunet.detect_landmarks(astronaut_gray)
    assert len(found) == 1
    box, face = found[0]
    assert iou(box, ASTRONAUT_FACE) > 0.6
    (ex, ey), (mx, my) = face.eyes_centre, face.mouth_centre
    assert ey < my and abs(ex - mx) < 10  # eyes above the mouth, upright
    assert abs(face.roll_degrees) < 5
    assert yunet.detect(astronaut_gray) == [box]


@pytest.mark.parametrize("degrees", [-20.0, 20.0])
def test_a_tilted_head_is_still_found(
    yunet: YuNetDetector, astronaut_gray: npt.NDArray[np.uint8], degrees: float
) -> None:
    found = yunet.detect(rotate(astronaut_gray, degrees))
    assert len(found) == 1 and iou(found[0], ASTRONAUT_FACE) > 0.5


def test_roll_is_the_angle_of_the_eye_line() -> None:
    points = ((100.0, 100.0), (140.0, 110.0), (120.0, 120.0), (105.0, 140.0), (135.0, 145.0))
    face = Landmarks(Box(80, 80, 80, 100), points, 0.9)
    assert face.roll_degrees == pytest.approx(math.degrees(math.atan2(10, 40)))
    assert face.eyes_centre == (120.0, 105.0) and face.mouth_centre == (120.0, 142.5)


def test_blank_and_tiny_images_have_no_faces(yunet: YuNetDetector) -> None:
    assert yunet.detect(np.full((480, 640), 128, np.uint8)) == []
    assert yunet.detect(np.zeros((8, 8), np.uint8)) == []
    with pytest.raises(ValueError, match="gray"):
        yunet.detect(np.zeros((48, 48, 3), np.uint8))


def test_faces_smaller_than_min_face_are_dropped(astronaut_gray: npt.NDArray[np.uint8]) -> None:
    assert YuNetDetector(YuNetSettings(min_face=150, min_face_detect=60)).detect(astronaut_gray, frame=True) == []


def test_shifted_moves_box_and_points(yunet: YuNetDetector, astronaut_gray: npt.NDArray[np.uint8]) -> None:
    face = yunet.landmarks(astronaut_gray)[0]
    moved = face.shifted(10, -5)
    assert moved.box == Box(face.box.x + 10, face.box.y - 5, face.box.w, face.box.h)
    assert moved.points[2] == (face.points[2][0] + 10, face.points[2][1] - 5)
    assert moved.roll_degrees == pytest.approx(face.roll_degrees)


def test_bad_settings_and_missing_file_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="score_threshold"):
        YuNetSettings(score_threshold=1.5)
    with pytest.raises(ModelError, match="Haar"):
        YuNetDetector(model_path=tmp_path / "missing.onnx")


@pytest.mark.parametrize("side", [64, 40, 20])
def test_a_small_image_after_a_large_one_has_no_faces(
    yunet: YuNetDetector, astronaut_gray: npt.NDArray[np.uint8], side: int
) -> None:
    """OpenCV's YuNet, run at a larger size first, answers a 32 × 32 input with infinite boxes (was a 500)."""
    for _ in range(20):
        yunet.detect(astronaut_gray)
        assert yunet.detect(np.full((side, side), 38, np.uint8)) == []


def test_implausible_rows_are_never_faces() -> None:
    """Whatever OpenCV answers, rows with infinite values or a centre outside the input are dropped."""
    garbage = np.zeros((3, 15), np.float32)
    garbage[0, :4] = [-np.inf, -1.9e5, np.inf, 0]
    garbage[1, :4] = [2.4e5, -1.1e6, 2.3e5, 1e6]
    garbage[2, :4] = [5, 5, 20, 20]
    garbage[2, 4:14] = [10, 10, 20, 10, 15, 15, 12, 18, 18, 18]  # eyes, nose, mouth: a 21.6-px FER square
    garbage[:, 14] = 1.0
    detector = _answering(garbage.tolist(), YuNetSettings(min_face=20, min_face_detect=20))
    found = detector.landmarks(np.full((200, 200), 38, np.uint8))  # searched at scale 1: rows are input pixels
    assert [face.box for face in found] == [Box(5, 5, 20, 20)]


def record_search_sizes(detector: YuNetDetector) -> list[tuple[int, int]]:
    """The sizes of the detection copies ``detector`` searches from now on, in order."""
    seen: list[tuple[int, int]] = []
    real_net = detector._net

    def spy(width: int, height: int) -> object:
        seen.append((width, height))
        return real_net(width, height)

    detector._net = spy  # type: ignore[method-assign]
    return seen


def test_a_huge_photo_is_searched_on_a_bounded_copy(astronaut_gray: npt.NDArray[np.uint8]) -> None:
    # The astronaut on a 6,000-px-wide canvas (36 MP): at half size YuNet would see 9 MP.
    canvas = np.full((6000, 6000), 128, np.uint8)
    big = cv2.resize(astronaut_gray, (2048, 2048), interpolation=cv2.INTER_LINEAR)
    canvas[1000:3048, 2000:4048] = big
    detector = YuNetDetector(YuNetSettings(max_detect_side=1920))
    seen = record_search_sizes(detector)
    found = detector.detect(canvas)
    assert seen == [(1920, 1920)]
    expected = Box(2000 + ASTRONAUT_FACE.x * 4, 1000 + ASTRONAUT_FACE.y * 4, ASTRONAUT_FACE.w * 4, ASTRONAUT_FACE.h * 4)
    assert len(found) == 1 and iou(found[0], expected) > 0.5
    with pytest.raises(ValueError, match="max_detect_side"):
        YuNetSettings(max_detect_side=20)


def face_photo(astronaut_gray: npt.NDArray[np.uint8], side: int) -> npt.NDArray[np.uint8]:
    """A photo that is only the astronaut's face, framed as tightly as FER2013's crops, ``side`` px wide."""
    box = ASTRONAUT_FACE
    crop = astronaut_gray[box.y : box.y + box.h, box.x : box.x + box.w]
    return np.asarray(cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA), dtype=np.uint8)


@pytest.mark.parametrize("side", [48, 64, 100, 150])
def test_a_photo_that_is_one_face_is_found_at_any_size(
    yunet: YuNetDetector, astronaut_gray: npt.NDArray[np.uint8], side: int
) -> None:
    """Below 160 px, before the small-photo rules, a 48- or 64-px face photo had no face at all."""
    found = yunet.detect(face_photo(astronaut_gray, side))
    assert len(found) == 1
    assert min(found[0].w, found[0].h) >= 0.8 * side  # the face is the photo


def test_a_small_photo_is_searched_on_an_enlarged_copy(astronaut_gray: npt.NDArray[np.uint8]) -> None:
    detector = YuNetDetector()
    seen = record_search_sizes(detector)
    detector.detect(face_photo(astronaut_gray, 64))
    detector.detect(np.zeros((480, 640), np.uint8), frame=True)
    assert seen == [(160, 160), (320, 240)]  # a webcam frame keeps its half-size copy


def test_a_face_that_fills_a_large_photo_is_found_on_a_second_small_copy(astronaut_gray: npt.NDArray[np.uint8]) -> None:
    """At 3,000 px the face is too big for YuNet in the half-size copy; the 240-px copy finds it."""
    photo = np.asarray(cv2.resize(face_photo(astronaut_gray, 100), (3000, 3000), interpolation=cv2.INTER_CUBIC))
    assert YuNetDetector(YuNetSettings(whole_photo_side=2000)).detect(photo) == []  # no second copy
    detector = YuNetDetector()
    seen = record_search_sizes(detector)
    found = detector.detect(photo)
    assert seen == [(1500, 1500), (240, 240)]
    assert len(found) == 1 and min(found[0].w, found[0].h) >= 0.8 * 3000
    seen.clear()
    detector.detect(face_photo(astronaut_gray, 400))
    assert seen == [(200, 200)]  # found in the first copy: no second search


def test_an_unsure_face_in_the_first_copy_does_not_stop_the_second_search(
    astronaut_gray: npt.NDArray[np.uint8],
) -> None:
    """At 2,000 px the half-size copy shows only a misplaced face at score 0.53; the small copy a sure one."""
    photo = np.asarray(cv2.resize(face_photo(astronaut_gray, 100), (2000, 2000), interpolation=cv2.INTER_CUBIC))
    (box, face), *others = YuNetDetector().detect_landmarks(photo)
    assert not others and face.score >= 0.7
    assert min(box.w, box.h) >= 0.8 * 2000


@pytest.mark.parametrize(
    ("shape", "frame", "searches"),
    [((480, 640), True, 1), ((480, 640), False, 2), ((720, 1280), True, 2), ((1080, 1920), True, 3)],
)
def test_how_often_a_picture_without_a_face_is_searched(shape: tuple[int, int], frame: bool, searches: int) -> None:
    """A second, small copy only when it is much smaller than the first (1080p); a last search for
    small faces in every photo, but in a stream's frames only above the page's webcam frames
    (640 px): those pay one search."""
    detector = YuNetDetector()
    seen = record_search_sizes(detector)
    assert detector.detect(np.full(shape, 128, np.uint8), frame=frame) == []
    assert len(seen) == searches


def test_an_empty_image_has_no_faces(yunet: YuNetDetector) -> None:
    assert yunet.detect(np.zeros((0, 100), np.uint8)) == []
    assert YuNetSettings().detect_scale((0, 100)) > 0


def _yunet_row(centre: tuple[float, float], eye_mouth: float, score: float) -> list[float]:
    """One FaceDetectorYN output row for an upright face centred on ``centre`` whose FER-framed square
    is SIDE_PER_EYE_MOUTH (2.7) × ``eye_mouth``."""
    x, y = centre
    eyes_y, mouth_y = y - CENTRE_BELOW_EYES * eye_mouth, y + (1 - CENTRE_BELOW_EYES) * eye_mouth
    gap = eye_mouth / 2
    points = [x - gap, eyes_y, x + gap, eyes_y, x, y, x - gap / 2, mouth_y, x + gap / 2, mouth_y]
    return [x - eye_mouth, y - eye_mouth, 2 * eye_mouth, 2.4 * eye_mouth, *points, score]


def _answering(rows: list[list[float]], settings: YuNetSettings | None = None) -> YuNetDetector:
    """A detector whose YuNet answers ``rows`` (FaceDetectorYN's output, in detection-copy pixels)."""
    detector = YuNetDetector(settings)

    class FakeNet:
        def setInputSize(self, size: tuple[int, int]) -> None:  # noqa: N802 - OpenCV's name
            pass

        def detect(self, image: npt.NDArray[np.uint8]) -> tuple[int, npt.NDArray[np.float32]]:
            return 1, np.asarray(rows, np.float32)

    detector._local.net = FakeNet()
    return detector


def test_an_unsure_face_counts_only_when_it_fills_the_photo_and_nothing_surer_was_found() -> None:
    frame = np.zeros((480, 640), np.uint8)  # searched at half size: rows are in 320 × 240 pixels
    fills = _yunet_row((160, 120), eye_mouth=40, score=0.6)  # a 216-px square in a 480-px-high frame
    small = _yunet_row((60, 60), eye_mouth=20, score=0.6)  # 108 px: a face, but not the photo
    sure = _yunet_row((260, 60), eye_mouth=20, score=0.9)

    found = _answering([fills, small]).detect_landmarks(frame)
    assert [round(face.score, 2) for _, face in found] == [0.6]
    assert found[0][0].w >= 0.4 * 480

    assert _answering([small]).detect(frame) == []
    assert [round(face.score, 2) for _, face in _answering([fills, sure]).detect_landmarks(frame)] == [0.9]
    tiny_but_sure = _yunet_row((260, 60), eye_mouth=5, score=0.9)  # 27 px: too small to count
    assert [round(face.score, 2) for _, face in _answering([fills, tiny_but_sure]).detect_landmarks(frame)] == [0.6]
    assert _answering([_yunet_row((160, 120), eye_mouth=40, score=0.45)]).detect(frame) == []


def test_photo_face_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="photo_face_threshold"):
        YuNetSettings(photo_face_threshold=1.0)
    with pytest.raises(ValueError, match="photo_face_share"):
        YuNetSettings(photo_face_share=0.0)
    with pytest.raises(ValueError, match="min_detect_side"):
        YuNetSettings(min_detect_side=5000)
    with pytest.raises(ValueError, match="whole_photo_side"):
        YuNetSettings(whole_photo_side=20)


def _group_photo(astronaut_gray: npt.NDArray[np.uint8], width: int, height: int, face: int) -> npt.NDArray[np.uint8]:
    """Six copies of the astronaut's head in a 3 × 2 grid, each face ``face`` pixels wide."""
    scale = face / ASTRONAUT_FACE.w
    head = astronaut_gray[HEAD]
    side = round(head.shape[0] * scale)
    small = cv2.resize(head, (side, side), interpolation=cv2.INTER_AREA)
    canvas = np.full((height, width), 120, np.uint8)
    for row in range(2):
        for column in range(3):
            top = round((row + 0.5) * height / 2 - side / 2)
            left = round((column + 0.5) * width / 3 - side / 2)
            canvas[top : top + side, left : left + side] = small
    return canvas


def test_a_group_photo_at_web_size_has_its_small_faces_found(
    yunet: YuNetDetector, astronaut_gray: npt.NDArray[np.uint8]
) -> None:
    """Six faces of about 65 px in a 900 × 600 photo were all under the 80-px minimum: none found."""
    group = _group_photo(astronaut_gray, 900, 600, 65)
    assert YuNetDetector(YuNetSettings(small_face=80)).detect(group) == [], "the search before"
    faces = yunet.detect(group)
    assert len(faces) == 6 and all(50 <= box.w <= 90 for box in faces)


def test_a_webcam_sized_frame_is_not_searched_again_for_small_faces(
    yunet: YuNetDetector, astronaut_gray: npt.NDArray[np.uint8]
) -> None:
    """The page sends frames of at most 640 px: a frame with no face costs one search, not two."""
    assert yunet.detect(_group_photo(astronaut_gray, 640, 480, 50), frame=True) == []
    assert len(yunet.detect(_group_photo(astronaut_gray, 960, 720, 50), frame=True)) == 6


def test_a_small_group_photo_has_its_small_faces_found(
    yunet: YuNetDetector, astronaut_gray: npt.NDArray[np.uint8]
) -> None:
    """A photo at web size or smaller (a messenger's 640 × 480) was never searched again: its six
    faces of 50 px were all missed. Only a stream's frames are spared the second search."""
    faces = yunet.detect(_group_photo(astronaut_gray, 640, 480, 50))
    assert len(faces) == 6 and all(35 <= box.w <= 70 for box in faces)
    assert len(moodtape.analyze(cv2.cvtColor(_group_photo(astronaut_gray, 480, 320, 42), cv2.COLOR_GRAY2BGR))) == 6


def _phone_photo(
    astronaut_gray: npt.NDArray[np.uint8], face: int, at: tuple[int, int]
) -> tuple[npt.NDArray[np.uint8], Box]:
    """A 4000 × 3000 picture of gray with sensor noise and the astronaut's head pasted at ``at`` with
    a face ``face`` pixels wide; also where her face is."""
    rng = np.random.default_rng(18)
    canvas = np.clip(rng.normal(128, 6, (3000, 4000)), 0, 255).astype(np.uint8)
    scale = face / ASTRONAUT_FACE.w
    head = astronaut_gray[HEAD]
    side = round(head.shape[0] * scale)
    x, y = at
    canvas[y : y + side, x : x + side] = cv2.resize(head, (side, side), interpolation=cv2.INTER_AREA)
    face_x, face_y = x + (ASTRONAUT_FACE.x - HEAD[1].start) * scale, y + (ASTRONAUT_FACE.y - HEAD[0].start) * scale
    return canvas, Box(round(face_x), round(face_y), face, face)


# Inside one tile; where four tiles meet (face at x 1419–1464, y 1470–1515): the left two tiles end
# at x 1440 and cut it, the right two (from x 1280) hold it whole, both rows overlapping over y 1420–1580.
@pytest.mark.parametrize("at", [(2600, 1900), (1390, 1450)])
def test_a_small_face_in_a_phone_photo_is_found_and_read(
    bundled_analyzer: Analyzer, astronaut_gray: npt.NDArray[np.uint8], at: tuple[int, int]
) -> None:
    """The search for small faces ran on a copy capped at 1,920 px, where a 45-px face is a 22-px
    smudge: 40–60-px faces in a 12-megapixel photo were never found."""
    photo, where = _phone_photo(astronaut_gray, 45, at)
    faces = bundled_analyzer.analyze_gray(photo)
    assert len(faces) == 1 and iou(faces[0].box, where) > 0.5
    assert faces[0].emotion == "happy"


@pytest.mark.parametrize("face", [30, 34])
def test_a_face_of_30_to_35_px_in_a_phone_photo_is_kept_from_the_tiles(
    bundled_analyzer: Analyzer, astronaut_gray: npt.NDArray[np.uint8], face: int
) -> None:
    """The tiles show a 12-MP photo at full size and found such faces, but kept only faces of 40 px
    and more (Yale's photos at 30 px: none of 40 found; 65 % now)."""
    photo, where = _phone_photo(astronaut_gray, face, (2600, 1900))
    faces = bundled_analyzer.analyze_gray(photo)
    assert len(faces) == 1 and iou(faces[0].box, where) > 0.5


def test_a_large_picture_without_a_face_has_none(yunet: YuNetDetector) -> None:
    noisy = np.clip(np.random.default_rng(18).normal(128, 6, (3000, 4000)), 0, 255).astype(np.uint8)
    assert yunet.detect(noisy) == []
    # Blotches of blurred noise, 36 MP: in a tile, three that filled it passed for faces of 1,000 px.
    coarse = np.random.default_rng(0).integers(0, 255, (76, 114)).astype(np.uint8)
    assert yunet.detect(cv2.resize(coarse, (7350, 4900), interpolation=cv2.INTER_LINEAR)) == []


def test_the_tiled_search_is_bounded_whatever_the_upload() -> None:
    """Tiles of at most ``max_detect_side`` a side (memory: one capped copy at a time), about
    ``max_tiled_pixels`` in all however large the picture; a 36-MP picture is tiled at 0.58."""
    settings = YuNetSettings()
    for shape in [(3000, 4000), (4900, 7350), (2000, 12000)]:
        detector = YuNetDetector()
        seen = record_search_sizes(detector)
        assert detector.detect(np.full(shape, 128, np.uint8)) == []
        # After the capped copy, and the small copy for a face filling the photo where it has one.
        first = 1 + (settings.second_scale(shape) is not None)
        scale = settings.tiled_scale(shape)
        assert scale is not None
        side, overlap = math.floor(settings.max_detect_side / scale), math.ceil(settings.tile_overlap / scale)
        assert len(seen) == first + len(tile_windows(shape, side, overlap))
        tiles = seen[first:]
        assert len(tiles) > 1 and all(max(size) <= settings.max_detect_side for size in tiles)
        assert sum(w * h for w, h in tiles) <= 1.25 * settings.max_tiled_pixels
    assert settings.tiled_scale((4900, 7350)) == pytest.approx(0.577, abs=0.001)


@pytest.mark.parametrize(("shape", "frame"), [((1080, 1920), False), ((3000, 4000), True), ((480, 640), False)])
def test_pictures_one_copy_covers_are_not_tiled(shape: tuple[int, int], frame: bool) -> None:
    """Photos up to 1,920 px and a stream's frames of any size keep one search for small faces."""
    assert YuNetSettings().tiled_scale(shape, frame=frame) is None


@pytest.mark.parametrize(
    ("small_face", "tiled_small_face", "kept"), [(40, None, 28), (24, None, 24), (40, 34, 34), (24, 10, 10)]
)
def test_the_tiles_keep_faces_down_to_28_px_or_small_face_when_less(
    small_face: int, tiled_small_face: int | None, kept: int
) -> None:
    """``YuNetSettings(small_face=24)`` was refused once the tiles kept faces down to 28 px."""
    settings = YuNetSettings(small_face=small_face, tiled_small_face=tiled_small_face)
    assert settings.smallest_tiled_face == kept


@pytest.mark.parametrize(("small_face", "tiled_small_face"), [(40, 9), (40, 41), (24, 28)])
def test_a_tiled_small_face_outside_10_to_small_face_is_refused(small_face: int, tiled_small_face: int) -> None:
    with pytest.raises(ValueError, match=r"tiled_small_face must lie in \[10, small_face\]"):
        YuNetSettings(small_face=small_face, tiled_small_face=tiled_small_face)


@pytest.mark.parametrize("overlap", [0, 39])
def test_a_tile_overlap_under_a_small_face_is_refused(overlap: int) -> None:
    """Tiles keep only faces up to their overlap: ``tile_overlap=0`` was accepted and then dropped
    every face the tiles found. A small face is ``min_face_detect`` (40) px in the searched copy."""
    with pytest.raises(ValueError, match="tile_overlap"):
        YuNetSettings(tile_overlap=overlap)
    assert YuNetSettings(tile_overlap=40).tile_overlap == 40
